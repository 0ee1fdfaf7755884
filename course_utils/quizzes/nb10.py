"""Feedback for the quiz of notebook 10 (real HII regions)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "10.1": Question(correct="b", why={
        "a": "GAME's cross-validated error on its own library is a few hundredths of a dex; an "
             "offset shared with the grid fit, which has no training at all, points elsewhere.",
        "b": "Right: methods built on photoionization models and the electron-temperature "
             "method give systematically different abundances (Kewley & Ellison 2008).",
        "c": "Symmetric 10% errors widen the distributions; they do not shift every estimate "
             "the same way by 0.2 dex.",
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
    "10.4": Question(correct="b", why={
        "a": "A larger library lowers GAME's error on its own code's models; it cannot move "
             "MAPPINGS' line ratios towards Cloudy's. The difference is in the physics of the "
             "two codes, not in the training.",
        "b": "Right: each library is exact for its own code, so cross-validation and calibration "
             "inside it are blind to the code's own error; the difference between independent "
             "codes measures it and must be carried into the error budget.",
        "c": "Neither code is nature; the real HII regions show that MAPPINGS misses their lines "
             "more often than Cloudy with free N/O, and both disagree with the direct method.",
        "d": "The same errors give a few hundredths of a dex on the training code's own models; "
             "the offset across codes is ten times larger and systematic.",
    }),
}
