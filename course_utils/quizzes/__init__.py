"""Feedback for the notebooks' multiple-choice questions (see :func:`course_utils.checks.quiz`).

A notebook ``NN_name`` asks its questions in markdown cells, options labelled a, b, c ...,
and checks each answer with ``checks.quiz(answer, "NN.k")``. Module ``nbNN`` here holds, for
each question, the right letter and one explanation per option: why a wrong option is
wrong (shown to the student who picks it) and why the right one is right.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """One multiple-choice question: the right option and an explanation for every option."""

    correct: str
    why: dict[str, str]

    def __post_init__(self):
        if self.correct not in self.why:
            raise ValueError(f"correct option {self.correct!r} has no explanation")
        if len(self.why) < 2:
            raise ValueError("a question needs at least two options")


def get_question(question: str) -> Question:
    """The question ``"NN.k"`` (notebook NN, question k); KeyError naming what exists."""
    notebook, _, _ = question.partition(".")
    try:
        module = importlib.import_module(f"{__name__}.nb{notebook}")
    except ModuleNotFoundError:
        raise KeyError(f"no quiz module for notebook {notebook!r} (question {question!r})") from None
    questions: dict[str, Question] = module.QUESTIONS
    if question not in questions:
        raise KeyError(f"quiz question {question!r} not found; notebook {notebook} has "
                       f"{sorted(questions)}")
    return questions[question]
