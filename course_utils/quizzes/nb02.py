"""Quiz of notebook 02 (decision trees)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "02.1": Question(correct="b", why={
        "a": "0.25 is the fraction of AGN in the node, p_AGN = 10/40. The Gini impurity is "
             "1 minus the sum of the squared fractions of both classes.",
        "b": "Right: p_HII = 0.75 and p_AGN = 0.25, so Gini = 1 - 0.75^2 - 0.25^2 = 0.375.",
        "c": "0.5 is the largest Gini of a two-class node, reached for an even mix (20 and 20). "
             "A 30/10 node is purer than that.",
        "d": "0.75 is the fraction of HII models, p_HII = 30/40, not an impurity: a node that "
             "pure has a Gini well below the maximum of 0.5.",
    }),
    "02.2": Question(correct="a", why={
        "a": "Right: any threshold in the gap sends the same training points left, so it has the "
             "same gain; halfway leaves a new point equally close to either side of the gap.",
        "b": "A threshold at a data value and one halfway to the next value split the training "
             "points in the same way, so they have exactly the same gain.",
        "c": "The threshold decides which gap is cut, and that sets how many points go left; "
             "where it sits inside the gap changes nothing for the training points.",
        "d": "scikit-learn stores any number as a threshold; it takes the midpoint, like the "
             "course, because it is the fairest choice for new points.",
    }),
    "02.3": Question(correct="d", why={
        "a": "A tree has no trend to follow: each leaf predicts a constant. Beyond the training "
             "range the prediction stays flat at the last step.",
        "b": "A tree predicts for any input: the input just follows the questions down to a "
             "leaf, the rightmost one for large values of the feature.",
        "c": "The mean of all training models is the prediction of a tree of depth 0; a deeper "
             "tree sends the point down to a leaf and predicts that leaf's mean.",
        "d": "Right: every question 'feature <= t' is answered 'no', so the model lands in the "
             "rightmost leaf, whose prediction is the mean log U of its training models. Trees "
             "cannot extrapolate.",
    }),
    "02.4": Question(correct="c", why={
        "a": "Cross-validation is slower: it fits five trees per depth where the test set needs "
             "one. It is used because it keeps the test set honest.",
        "b": "A fitted tree can be scored on any data, the test set included; that is what the "
             "figure of training and test accuracy does.",
        "c": "Right: a depth picked because it scores best on the test set is tuned to that set, "
             "so its test accuracy is optimistic; the test set must be used only once, at the end.",
        "d": "The test set holds 772 models, plenty to measure an accuracy; the point is not to "
             "spend it on choices.",
    }),
}
