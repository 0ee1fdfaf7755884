import numpy as np
import pytest

from course_utils import checks


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.setattr(checks, "strict", False)


def test_three_verdicts(capsys):
    assert checks.check(None, 1.0, name="x") == checks.NOT_ANSWERED
    assert checks.check(1.0, 1.0, name="x") == checks.CORRECT
    assert checks.check(2.0, 1.0, name="x", hint="add one") == checks.NOT_YET
    out = capsys.readouterr().out
    assert "not answered yet" in out and "correct" in out and "add one" in out
    assert "got 2, not the expected value" in out
    # no direction: "too large" / "too small" would let a student bisect to the answer
    assert "too large" not in out and "too small" not in out


def test_verdicts_never_show_the_expected_value(capsys):
    checks.check(0.0479641, 0.0612345, name="x")
    checks.check("entropy", "gini", name="x")
    checks.check_function(lambda x: x + 1.0, lambda x: x * 7.25, [(2.0,)], name="f")
    out = capsys.readouterr().out
    assert "0.0612345" not in out and "gini" not in out and "14.5" not in out
    assert "0.0479641" in out and "entropy" in out
    assert "too small" not in out and "too large" not in out


def test_known_mistakes_get_their_targeted_hint(capsys):
    ref = lambda w: w / w.sum()  # noqa: E731
    mistakes = [(lambda w: w, "divide by the sum of the weights"),
                (lambda w: undefined_name, "never shown: this mistake cannot run")]  # noqa: F821
    w = np.array([1.0, 3.0])
    assert checks.check_function(lambda w: w * 1.0, ref, [(w,)], hint="generic",
                                 mistakes=mistakes) == checks.NOT_YET
    assert checks.check_function(lambda w: w * 2.0, ref, [(w,)], hint="generic",
                                 mistakes=mistakes) == checks.NOT_YET
    assert checks.check(12, 16, hint="generic", mistakes=[(12, "count the biases too")]) == checks.NOT_YET
    assert checks.check(13, 16, hint="generic", mistakes=[(12, "count the biases too")]) == checks.NOT_YET
    lines = capsys.readouterr().out.splitlines()
    assert "divide by the sum" in lines[0] and "generic" not in lines[0]
    assert "generic" in lines[1] and "divide by the sum" not in lines[1]
    assert "count the biases" in lines[2] and "generic" in lines[3]


def test_check_true_hint_can_diagnose_the_answer(capsys):
    diagnose = lambda v: "too few rows" if v < 10 else "too many rows"  # noqa: E731
    assert checks.check_true(4, lambda v: v == 16, hint=diagnose) == checks.NOT_YET
    assert checks.check_true(48, lambda v: v == 16, hint=diagnose) == checks.NOT_YET
    assert checks.check_true(16, lambda v: v == 16, hint=diagnose) == checks.CORRECT
    assert checks.check_true("x", lambda v: v == 16, hint=lambda v: v < 10) == checks.NOT_YET  # broken diagnosis
    out = capsys.readouterr().out.splitlines()
    assert "too few rows" in out[0] and "too many rows" in out[1] and out[2].endswith("correct")
    assert out[3] == "[answer] not yet"


def test_arrays_shapes_and_strings():
    assert checks.check(np.ones(3), [1, 1, 1]) == checks.CORRECT
    assert checks.check(np.ones(2), [1, 1, 1]) == checks.NOT_YET
    assert checks.check("gini", "gini") == checks.CORRECT
    assert checks.check("entropy", "gini") == checks.NOT_YET
    assert checks.check(object(), 1.0) == checks.NOT_YET  # never raises on odd answers


def test_check_function_handles_placeholders_errors_and_wrong_values():
    ref = lambda x: x ** 2  # noqa: E731

    def not_done(x):
        raise NotImplementedError

    def broken(x):
        return undefined_name  # noqa: F821

    assert checks.check_function(None, ref, [(2,)]) == checks.NOT_ANSWERED
    assert checks.check_function(not_done, ref, [(2,)]) == checks.NOT_ANSWERED
    assert checks.check_function(broken, ref, [(2,)]) == checks.NOT_YET
    assert checks.check_function(lambda x: x * 2, ref, [(2,), (3,)]) == checks.NOT_YET
    assert checks.check_function(lambda x: x * x, ref, [(2,), (3,)]) == checks.CORRECT


def test_check_true_reports_exceptions_as_not_yet():
    assert checks.check_true(5, lambda v: v > 3) == checks.CORRECT
    assert checks.check_true(5, lambda v: v.missing) == checks.NOT_YET


def test_fallbacks_use_reference_only_while_unanswered(capsys):
    assert checks.answer_or_reference(None, 7, name="k") == 7
    assert "using the reference" in capsys.readouterr().out
    assert checks.answer_or_reference(3, 7) == 3

    def not_done(x):
        raise NotImplementedError

    ref = abs
    assert checks.function_or_reference(not_done, ref, (-1,)) is ref
    mine = lambda x: -x  # noqa: E731  (wrong but answered: kept)
    assert checks.function_or_reference(mine, ref, (-1,)) is mine


def test_strict_mode_raises_for_wrong_or_missing(monkeypatch):
    monkeypatch.setattr(checks, "strict", True)
    with pytest.raises(AssertionError):
        checks.check(2.0, 1.0)
    with pytest.raises(AssertionError):
        checks.answer_or_reference(None, 1)
    assert checks.check(1.0, 1.0) == checks.CORRECT


def test_quiz_explains_each_option_and_never_names_the_right_one_on_a_wrong_answer(
        capsys, monkeypatch):
    from course_utils import quizzes

    q = quizzes.Question(correct="b", why={"a": "No: trees split on one feature.",
                                           "b": "Yes: each split tests one feature.",
                                           "c": "No: that is a neural network."})
    monkeypatch.setattr(quizzes, "get_question", lambda name: q)
    assert checks.quiz(None, "99.1") == checks.NOT_ANSWERED
    assert checks.quiz(" (B) ", "99.1") == checks.CORRECT
    assert checks.quiz("a", "99.1") == checks.NOT_YET
    assert checks.quiz("z", "99.1") == checks.NOT_YET
    out = capsys.readouterr().out
    assert "trees split on one feature" in out and "one of the letters a, b, c" in out
    wrong = out.split("[quiz 99.1] not yet")[1]
    assert "Yes: each split" not in wrong


def test_quiz_names_a_missing_question():
    import pytest

    with pytest.raises(KeyError, match="no quiz module"):
        checks.quiz("a", "98.1")


def test_quiz_strict_raises_on_wrong_answer(monkeypatch):
    import pytest

    from course_utils import quizzes

    monkeypatch.setattr(quizzes, "get_question",
                        lambda name: quizzes.Question("a", {"a": "right", "b": "wrong"}))
    monkeypatch.setattr(checks, "strict", True)
    with pytest.raises(AssertionError):
        checks.quiz("b", "99.2")


def test_check_function_hint_can_diagnose_the_function(capsys):
    def diagnose(f):
        return "rows must sum to one" if not np.allclose(f(np.ones((2, 3))).sum(axis=1), 1) else ""

    ref = lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)  # noqa: E731
    assert checks.check_function(np.exp, ref, [(np.ones((2, 3)),)], hint=diagnose) == checks.NOT_YET
    assert checks.check_function(ref, ref, [(np.ones((2, 3)),)], hint=diagnose) == checks.CORRECT
    assert checks.check_function(lambda z: z.T @ z, ref, [(np.ones((2, 3)),)], hint=diagnose) == checks.NOT_YET
    out = capsys.readouterr().out.splitlines()
    assert "rows must sum to one" in out[0] and out[1].endswith("correct")
    assert "shape" in out[2] and "rows must sum to one" in out[2]
