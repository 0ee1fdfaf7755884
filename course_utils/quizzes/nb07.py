"""Quiz of notebook 07 (GAME on the library): can the error bars be trusted?"""

from course_utils.quizzes import Question

QUESTIONS = {
    "07.1": Question(correct="b", why={
        "a": "Too wide would put the truth near the middle of each distribution too often: a hump "
             "in the PIT histogram and a coverage above 0.68, the opposite of what is measured.",
        "b": "Right: a U-shaped PIT means the truth keeps landing in the tails, and a 68% interval "
             "that holds it only half of the time is too narrow.",
        "c": "A bias tilts the PIT histogram (more spectra on one side); a U shape piles them up on "
             "both sides at once.",
        "d": "With 500 spectra the coverage of a calibrated interval scatters by about 0.02 around "
             "0.68; 0.5 is nine times that, far beyond chance.",
    }),
    "07.2": Question(correct="c", why={
        "a": "More draws describe the same distribution more smoothly, but its width stays what it "
             "is: the draws only vary the measured lines.",
        "b": "Training with noise makes the regressor expect noisy inputs; it does not add width. "
             "The draws simply never include the regressor's own error.",
        "c": "Right: each draw perturbs the measured lines and asks the regressor again. Where the "
             "lines barely constrain a property, the regressor returns nearly the same value every "
             "time, however far it is from the truth.",
        "d": "A better-trained network is more accurate on average, but its Monte Carlo draws would "
             "still ignore how far off it can be for a given spectrum.",
    }),
    "07.3": Question(correct="d", why={
        "a": "The calibration learns how wide the errors are for spectra the library describes; a "
             "spectrum no model reproduces is outside what it learned, so its error bar means "
             "nothing.",
        "b": "A value inside the library's range can still be meaningless: a regressor returns some "
             "value for any input, including an AGN spectrum.",
        "c": "Averaging a meaningless value with others only hides it; the strong-line calibrations "
             "also assume an HII region.",
        "d": "Right: no library model matches the spectrum within its errors, so the model-based "
             "metallicity is not a measurement. Look at why (an AGN, shocks, a bad line) first.",
    }),
}
