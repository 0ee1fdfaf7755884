"""Feedback for the quiz of notebook 11 (models or data? learning from real labels)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "11.1": Question(correct="b", why={
        "a": "Random folds do use every paper, and that is the problem: the score then includes "
             "regions whose paper-specific errors the model has already seen.",
        "b": "Right: quote the score of folds that mimic the use. A new survey is a new source, "
             "so hold out whole source papers.",
        "c": "The two splits answer different questions; only the grouped one matches a new "
             "survey. Averaging a leaky score with an honest one is still leaky.",
        "d": "The training scatter measures how well the model remembers its labels, not how it "
             "does on regions it has never seen.",
    }),
    "11.2": Question(correct="b", why={
        "a": "One more feature means more coefficients to learn from the same 40 labels; alone "
             "that would make things worse, not better.",
        "b": "Right: GAME already orders the regions by metallicity; 40 labels suffice to learn "
             "its offset from the direct-method scale and a gentle correction.",
        "c": "GAME is trained on photoionization models only; it never sees a direct-method "
             "abundance, which is why its estimates can be used in every fold.",
        "d": "The gap at 40 regions is several hundredths of a dex, across all ten grouped folds: "
             "larger than the draw-to-draw differences.",
    }),
    "11.3": Question(correct="b", why={
        "a": "Inputs inside the training range do not guarantee the same input-output relation; "
             "the measure does what it says, it just cannot see this kind of shift.",
        "b": "Right: the shift is in the relation between lines and abundance, not in the lines; "
             "only labels from the new population reveal it.",
        "c": "Nothing marks them as doubtful: they pass the same quality checks, and notebook 10 "
             "recomputes EELG1002's published abundance from its lines.",
        "d": "More local regions teach the local relation better; they cannot teach a relation "
             "that differs for these galaxies.",
    }),
}
