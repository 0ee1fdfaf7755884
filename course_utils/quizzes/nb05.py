"""Quiz feedback for notebook 05, convolutional networks on handwritten digits."""

from course_utils.quizzes import Question

QUESTIONS = {
    "05.1": Question(correct="c", why={
        "a": "No: learned kernels are rarely symmetric (the Sobel kernels are not: flipping one "
             "reverses its sign). The flip matters for a given kernel, just not for a learned one.",
        "b": "No: pooling keeps the largest response of each block; a flipped kernel gives other "
             "responses, and pooling does not undo that.",
        "c": "Yes: cross-correlating with K is convolving with K flipped. Training finds whichever "
             "kernel lowers the loss, so a network of cross-correlations can do everything a "
             "network of convolutions can; it just learns the flipped kernels.",
        "d": "No: the flip is in space (rows and columns), the same for one channel or three.",
    }),
    "05.2": Question(correct="a", why={
        "a": "Yes: a dense neuron has one weight per input value, 32 x 32 x 3 = 3072 of them. A filter "
             "has 5 x 5 x 3 = 75 weights, and the same 75 serve all 28 x 28 positions (weight "
             "sharing), so the count does not grow with the image.",
        "b": "No: this layer has no padding, and padding adds positions, not weights; the filter's "
             "weights are the same with or without it.",
        "c": "No: pooling comes after the convolution and has no weights at all; the convolution "
             "layer's 1216 parameters do not depend on it.",
        "d": "No: each filter spans all three channels (that is the factor C in k * k * C * F); "
             "the saving comes from reusing the filter at every position.",
    }),
    "05.3": Question(correct="d", why={
        "a": "No: a shifted image keeps its 8 x 8 size (the border is filled with zeros), and the "
             "shifts cost a little time, they do not save any.",
        "b": "No: a shift moves the digit and fills the opposite border with zeros; it does not make "
             "dead filters fire.",
        "c": "No: the validation images are never shifted into the training set; only the fitting "
             "images are shifted, and the validation set stays untouched.",
        "d": "Yes: the label does not change when the digit moves by a pixel, so each epoch brings "
             "slightly different examples for free; the network learns features that tolerate "
             "small shifts, and overfits less (Simard et al. 2003).",
    }),
}
