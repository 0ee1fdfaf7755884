"""Self-checks for exercise cells.

An exercise cell in a notebook ends with a self-check such as::

    checks.check(gini, 0.48, name="gini", hint="1 minus the sum of squared class fractions")

which prints one of three verdicts and never raises in a student notebook:

- ``correct``
- ``not yet: <hint>``          the answer is there but wrong
- ``not answered yet``         the answer is still the placeholder (``None``) or the
  function still raises ``NotImplementedError``

In the instructor copy (``solutions/``) the setup cell sets ``checks.strict = True``
inside a ``### BEGIN HIDDEN TESTS`` block, so a wrong or missing solution raises
``AssertionError`` and fails the test suite.

Cells after an exercise use :func:`answer_or_reference` or :func:`function_or_reference`
so a student who is stuck can go on: the reference value is used, and the notebook
says so.

Quizzes are multiple-choice questions written in a markdown cell, answered in a code cell
(``q1 = "b"``) and checked with :func:`quiz`; the feedback for every option lives in
:mod:`course_utils.quizzes`, so the notebook's source does not give the answer away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: When True (instructor copies), a failed or missing answer raises AssertionError.
strict: bool = False

CORRECT = "correct"
NOT_YET = "not yet"
NOT_ANSWERED = "not answered yet"


def is_placeholder(value: Any) -> bool:
    """True when ``value`` is what the student copy holds before an answer is written."""
    return value is None or value is Ellipsis


def _report(status: str, name: str, hint: str = "") -> str:
    if status == CORRECT:
        print(f"[{name}] correct")
    elif status == NOT_ANSWERED:
        print(f"[{name}] not answered yet: replace the placeholder, then run this cell again")
    else:
        print(f"[{name}] not yet: {hint}" if hint else f"[{name}] not yet")
    if strict and status != CORRECT:
        raise AssertionError(f"self-check {name!r} failed in the solutions: {status} {hint}".strip())
    return status


def _close(value: Any, expected: Any, rtol: float, atol: float) -> tuple[bool, str]:
    """Compare numbers, arrays or other objects; return (ok, why-not).

    The why-not message never contains the expected value, only what was given, so that it
    cannot be copied. Nor does it say whether a number is too large or too small: with that
    a student could bisect to the answer without understanding it.
    """
    if isinstance(expected, (str, bool)) or expected is None:
        return value == expected, f"{value!r} is not the expected answer"
    try:
        got = np.asarray(value, dtype=float)
        want = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return value == expected, "the value differs from the expected one"
    if got.shape != want.shape:
        return False, f"expected shape {want.shape}, got shape {got.shape}"
    ok = bool(np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True))
    if want.size == 1:
        return ok, f"got {got.item():.6g}, not the expected value"
    return ok, "some elements differ from the expected values"


def _matches(value: Any, wrong: Any, rtol: float, atol: float) -> bool:
    """True when ``value`` equals a known wrong answer (never raises)."""
    try:
        return _close(value, wrong, rtol, atol)[0]
    except Exception:  # an odd answer is simply not this mistake
        return False


def check(
    value: Any,
    expected: Any,
    *,
    name: str = "answer",
    rtol: float = 1e-6,
    atol: float = 0.0,
    hint: str = "",
    mistakes: Sequence[tuple[Any, str]] = (),
) -> str:
    """Compare an answer with the expected value and print a verdict.

    The verdict never shows the expected value.

    Parameters
    ----------
    value
        The student's answer (a number, an array, a string ...).
    expected
        The right answer. Numbers and arrays are compared with ``numpy.allclose``.
    name
        Short name of the exercise, shown in the verdict.
    rtol, atol
        Tolerances for numbers and arrays.
    hint
        What to look at when the answer is wrong.
    mistakes
        Known wrong answers and what to say about each: ``[(wrong_value, hint), ...]``.
        An answer equal to one of them gets that targeted hint instead of ``hint``.

    Returns
    -------
    str
        ``"correct"``, ``"not yet"`` or ``"not answered yet"``.
    """
    if is_placeholder(value):
        return _report(NOT_ANSWERED, name)
    ok, why = _close(value, expected, rtol, atol)
    if ok:
        return _report(CORRECT, name)
    for wrong, targeted in mistakes:
        if _matches(value, wrong, rtol, atol):
            hint = targeted
            break
    return _report(NOT_YET, name, f"{why}. {hint}".strip() if hint else why)


def check_true(value: Any, condition: Callable[[Any], bool], *, name: str = "answer",
               hint: str | Callable[[Any], str] = "") -> str:
    """Check an answer with a condition rather than an exact value.

    ``condition(value)`` must return True for a correct answer; an exception inside it
    counts as "not yet" (the message is shown), never as a crash. ``hint`` may be a
    function of the answer that returns the hint: a diagnosis of the student's mistake,
    called only when the answer is wrong (if it fails, no hint is shown).
    """
    if is_placeholder(value):
        return _report(NOT_ANSWERED, name)
    try:
        ok = bool(condition(value))
    except NotImplementedError:
        return _report(NOT_ANSWERED, name)
    except Exception as exc:  # a student's answer may fail in any way; report, do not crash
        return _report(NOT_YET, name,
                       f"checking the answer raised {type(exc).__name__}: {exc}. {_hint(hint, value)}".strip())
    return _report(CORRECT if ok else NOT_YET, name, "" if ok else _hint(hint, value))


def _hint(hint: str | Callable[[Any], str], value: Any) -> str:
    if not callable(hint):
        return hint
    try:
        return str(hint(value) or "")
    except Exception:  # a diagnosis that fails on an odd answer gives no hint, not a crash
        return ""


def check_function(
    func: Callable | None,
    reference: Callable,
    cases: Sequence[tuple],
    *,
    name: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-12,
    hint: str | Callable[[Callable], str] = "",
    mistakes: Sequence[tuple[Callable, str]] = (),
) -> str:
    """Call ``func`` and ``reference`` on each tuple of arguments in ``cases`` and compare.

    A function that is still the placeholder (``None``) or raises ``NotImplementedError``
    is "not answered yet"; any other exception is "not yet" with its message. The verdict
    never shows the reference's result.

    Targeted hints: ``mistakes`` lists known wrong versions of the function and what to say
    about each, ``[(wrong_func, hint), ...]``; when the answer agrees with one of them on the
    first case it fails, that hint replaces ``hint``. ``hint`` itself may be a function that
    receives the student's function and returns a diagnosis (called only when it is wrong).
    """
    name = name or getattr(reference, "__name__", "function")
    if is_placeholder(func):
        return _report(NOT_ANSWERED, name)
    for args in cases:
        try:
            got = func(*args)
        except NotImplementedError:
            return _report(NOT_ANSWERED, name)
        except Exception as exc:  # report the student's error, keep the notebook running
            return _report(NOT_YET, name,
                           f"calling it raised {type(exc).__name__}: {exc}. {_hint(hint, func)}".strip())
        if is_placeholder(got):
            return _report(NOT_ANSWERED, name)
        ok, why = _close(got, reference(*args), rtol, atol)
        if not ok:
            for wrong, text in mistakes:
                try:
                    expected_if_wrong = wrong(*args)
                except Exception:  # a mistake that cannot run on this case is not the one made
                    continue
                if _matches(got, expected_if_wrong, rtol, atol):
                    break
            else:
                text = _hint(hint, func)
            return _report(NOT_YET, name, f"{why}. {text}".strip() if text else why)
    return _report(CORRECT, name)


def answer_or_reference(value: Any, reference: Any, *, name: str = "answer") -> Any:
    """Return ``value``, or ``reference`` (and say so) while the exercise is unanswered."""
    if is_placeholder(value):
        print(f"[{name}] not answered yet: using the reference so the rest of the notebook runs")
        if strict:
            raise AssertionError(f"{name!r} is not answered in the solutions")
        return reference
    return value


def function_or_reference(func: Callable | None, reference: Callable, example_args: tuple,
                          *, name: str | None = None) -> Callable:
    """Return ``func``, or ``reference`` while ``func`` is unanswered.

    ``func`` is tried once on ``example_args``: a placeholder, ``None`` result or
    ``NotImplementedError`` means unanswered. A function that runs but is wrong is kept;
    its self-check has already said so.
    """
    name = name or getattr(reference, "__name__", "function")
    answered = not is_placeholder(func)
    if answered:
        try:
            answered = not is_placeholder(func(*example_args))
        except NotImplementedError:
            answered = False
    return answer_or_reference(func if answered else None, reference, name=name)


def quiz(answer: Any, question: str) -> str:
    """Check the answer to a multiple-choice question and explain the option chosen.

    Parameters
    ----------
    answer
        The option's letter (``"b"``, ``"B"``, ``" (b) "`` are all read as ``b``);
        ``None`` while unanswered.
    question
        The question's id, ``"NN.k"``: question ``k`` of notebook ``NN``. Its options and
        their explanations are in :mod:`course_utils.quizzes` (module ``nbNN``).

    Returns
    -------
    str
        ``"correct"``, ``"not yet"`` or ``"not answered yet"``.
    """
    from course_utils.quizzes import get_question

    q = get_question(question)
    name = f"quiz {question}"
    if is_placeholder(answer):
        return _report(NOT_ANSWERED, name)
    letter = str(answer).strip().strip("()").strip().lower()
    if letter not in q.why:
        return _report(NOT_YET, name, f"answer with one of the letters {', '.join(q.why)}")
    if letter == q.correct:
        print(f"[{name}] {q.why[letter]}")
        return _report(CORRECT, name)
    return _report(NOT_YET, name, q.why[letter])

