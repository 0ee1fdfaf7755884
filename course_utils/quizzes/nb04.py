"""Quiz feedback for notebook 04, neural networks on handwritten digits."""

from course_utils.quizzes import Question

QUESTIONS = {
    "04.1": Question(correct="b", why={
        "a": "No: the perceptron rule does not use gradients at all; it nudges the weights after "
             "each mistake, and it does learn AND and OR that way.",
        "b": "Yes: one neuron's output depends on the side of the line w.x + b = 0 a point lies on. "
             "XOR puts (0,1) and (1,0) on one side, (0,0) and (1,1) on the other: no single line "
             "does that, so no number of epochs helps. A hidden layer draws several lines.",
        "c": "No: when a separating line exists the perceptron rule finds it in a finite number of "
             "steps, and for XOR none exists, so more epochs only cycle through the same mistakes.",
        "d": "No: starting from other weights changes nothing; no choice of w and b separates XOR's "
             "classes with one line.",
    }),
    "04.2": Question(correct="c", why={
        "a": "No: the validation images are a random, stratified fifth of the same training set, "
             "written by the same people; they are not harder on average.",
        "b": "No: a learning rate that is too large makes the training loss itself jump and the "
             "training accuracy stall; here the training accuracy reaches 100%.",
        "c": "Yes: the network fits its own images perfectly (including their quirks and noise), "
             "and that extra fit does not carry over to new images: overfitting.",
        "d": "No: too few units would also keep the training accuracy below 100%; this network "
             "fits every training image.",
    }),
    "04.3": Question(correct="d", why={
        "a": "No: the validation set (270 images) is smaller than the test set (450). The reason "
             "is not precision but independence.",
        "b": "No: the split is random over the same 1797 images from the same writers.",
        "c": "No: scoring only predicts; the weights do not change. The harm is in the choice you "
             "make after looking at the score.",
        "d": "Yes: if the test score decides which settings you keep, you keep the settings that "
             "were lucky on those 450 images, and the score overstates the accuracy on new images. "
             "The validation set takes that role, and the test set is used once, at the end.",
    }),
    "04.4": Question(correct="a", why={
        "a": "Yes: backpropagation multiplies, layer by layer, by W^T and by the slope g'(z); the "
             "sigmoid's slope is at most 0.25, so after many layers the gradient of the first ones "
             "is tiny (the vanishing gradient). ReLU, whose slope is 1 where it is active, helps.",
        "b": "No: the outputs of the hidden layers need not reach any value; the loss is computed "
             "after the softmax, which can still approach the right class.",
        "c": "No: every weight moves by the learning rate times its own gradient, whatever the "
             "number of weights in its layer; the gradients themselves are what is small.",
        "d": "No: backpropagation does not normalise anything; if it did, gradients could not "
             "vanish. They vanish because they are products of small factors.",
    }),
}
