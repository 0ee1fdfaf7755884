"""Feedback for the quiz of notebook 10 (real HII regions)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "10.1": Question(correct="b", why={
        "a": "GAME's cross-validated error on its own library is a few hundredths of a dex; an "
             "offset shared with the grid fit, which has no training at all, points elsewhere.",
        "b": "Right: methods built on photoionization models and the electron-temperature "
             "method give systematically different abundances (Kewley & Ellison 2008).",
        "c": "Symmetric 10% errors widen the distributions; they do not shift every estimate "
             "the same way by 0.15 dex.",
        "d": "The intensities are already dereddened, which is why a dust-free library is the "
             "right choice here.",
    }),
    "10.2": Question(correct="c", why={
        "a": "Not always, and that would be no reason: the choice is about outliers, not about "
             "flattering numbers.",
        "b": "NaN regions are dropped first in either case; both statistics can then be computed.",
        "c": "Right: the median absolute deviation barely moves when a few regions are far off, "
             "and 1.4826 x MAD equals the standard deviation for Gaussian differences.",
        "d": "The factor makes the MAD match a Gaussian standard deviation; the units stay dex.",
    }),
    "10.3": Question(correct="a", why={
        "a": "Right: [OIII]4363 comes mostly from the hotter gas, the temperature is "
             "overestimated and the collisional-line abundance underestimated.",
        "b": "The other way round: fluctuations bias the [OIII] temperature high, not low.",
        "c": "The two lines have different temperature dependences; that is what makes their "
             "ratio a thermometer, and why fluctuations bias it.",
        "d": "The line is still there; the temperature it gives is biased.",
    }),
}
