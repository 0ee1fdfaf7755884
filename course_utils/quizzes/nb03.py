"""Quiz of notebook 03 (ensembles and AdaBoost)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "03.1": Question(correct="b", why={
        "a": "That is bagging. AdaBoost (SAMME) fits every stump to the whole training set with "
             "weights; and averaging stumps would not fix their bias, only their variance.",
        "b": "Right: one stump is one straight cut (high bias). Each round moves the weight to the "
             "points still misclassified, near the curved boundary, so the next stump cuts there; "
             "the weighted vote of many cuts is a staircase that follows the curve.",
        "c": "Every stump sees the same training models as a single stump; only their weights "
             "change from round to round.",
        "d": "The stumps stay stumps (depth 1) in every round. The ensemble becomes flexible "
             "because it adds many simple learners, not because each one grows.",
    }),
    "03.2": Question(correct="c", why={
        "a": "That describes boosting only. Bagging's trees are independent: each is trained on "
             "its own bootstrap sample, without looking at the others.",
        "b": "The other way round: bagging averages deep, over-fitting trees (high variance) and "
             "boosting combines weak, under-fitting ones (high bias).",
        "c": "Right: independent deep trees, averaged, have a lower variance; weak learners added "
             "one after another, each fixing the previous ones' errors, have a lower bias.",
        "d": "Boosting is sequential: each round needs the weights left by the previous one. "
             "Bagging and random forests are the ones that run in parallel.",
    }),
    "03.3": Question(correct="a", why={
        "a": "Right: alpha = log((1 - 0.5) / 0.5) = log 1 = 0. A learner no better than chance "
             "gets no say, and the weights do not change.",
        "b": "alpha is log((1 - err) / err), not a fraction of the votes; at err = 0.5 the ratio "
             "is 1 and its logarithm 0.",
        "c": "The learners count alike only before the weighting: alpha grows as the weighted "
             "error falls, and at err = 0.5 it is 0.",
        "d": "The wrong points are multiplied by e^alpha, and at err = 0.5 alpha is 0, so "
             "e^alpha = 1: nothing changes.",
    }),
    "03.4": Question(correct="d", why={
        "a": "A median needs sorting, so it is slower than a mean, not faster. It is chosen for "
             "what it does to outliers.",
        "b": "Both can be computed with any positive weights (a weighted mean divides by their "
             "sum); the choice is about robustness.",
        "c": "Smoothness is not the reason, and it is not true in every case: both combine the "
             "same staircases of the trees.",
        "d": "Right: the weighted median ignores a few trees with wild predictions, where a mean "
             "would be pulled towards them (Drucker 1997).",
    }),
}
