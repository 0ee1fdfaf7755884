"""Quiz of notebook 01 (big data and machine learning)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "01.1": Question(correct="c", why={
        "a": "That network learned from 1.2 million labelled ImageNet photographs: supervised "
             "learning from data that people had labelled, not from games against itself.",
        "b": "GAME learns from a library of models computed in advance by a photoionization code; "
             "it never generates its own training examples.",
        "c": "Right: AlphaGo's networks learned first from human expert games (supervised), then "
             "from games against itself (reinforcement learning) (Silver et al. 2016).",
        "d": "Amazon describes computer vision, sensor fusion and deep learning; nothing in its "
             "description or in the 2024 reports is about a system playing against itself.",
    }),
    "01.2": Question(correct="b", why={
        "a": "Size is not the criterion: the digits of notebook 04 are only 1797 images. What "
             "matters is whether a short formula describes the relation.",
        "b": "Right: Schechter's function has three parameters that we fit; nobody can write down "
             "which 64 grey levels make a 7, so the relation is learned from examples.",
        "c": "Noise is handled the same way in both cases (the fit above recovers L* and alpha "
             "from a noisy histogram); the difference is whether a formula exists.",
        "d": "A network can learn a one-dimensional function perfectly well; with a known "
             "three-parameter formula there is simply no need for one.",
    }),
    "01.3": Question(correct="c", why={
        "a": "Inside the training range the degree-15 error is about 0.1 dex: twice the scatter, "
             "over-fitting indeed, but a small part of the total.",
        "b": "The scatter is 0.05 dex; an error of several dex cannot come from it. It sets the "
             "floor that the best models reach.",
        "c": "Right: beyond the most metal-poor and metal-rich training models the polynomial is "
             "held by no data and shoots off by tens of dex. That is extrapolation.",
        "d": "Sixteen coefficients are far more than the curve needs (degree 3-4 follows it "
             "well); too many, not too few, is the problem of degree 15.",
    }),
    "01.4": Question(correct="b", why={
        "a": "A faster link only buys time: against an archive that doubles every year, ten times "
             "the speed gains log2(10) = 3.3 years, as exercise 2 showed.",
        "b": "Right: 'take the analysis to the data'. The SkyServer ran astronomers' queries next "
             "to the Sloan survey's database and sent back only the answers.",
        "c": "Compression gains a constant factor at best, and scientific data compress poorly; "
             "the archive still doubles every year.",
        "d": "Faster processors do not move data faster: the bottleneck of section 2 is getting "
             "the data to the processor, not the processor itself.",
    }),
}
