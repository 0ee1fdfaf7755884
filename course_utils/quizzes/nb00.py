"""Quiz of notebook 00 (set-up check)."""

from course_utils.quizzes import Question

QUESTIONS = {
    "00.1": Question(correct="c", why={
        "a": "The course has no fallback code: a package that is too old can fail in any notebook, "
             "often with an obscure error. Fix it before the session.",
        "b": "data/generated/ holds files the course builds itself (model libraries, the synthetic "
             "cube); deleting it is safe but does not change an installed package.",
        "c": "Right: the FAIL line says what to run (python -m pip install --upgrade ...) in the "
             "environment the notebooks use; a running kernel keeps the old version until it restarts.",
        "d": "A virtual environment or a conda environment exists precisely so that packages can be "
             "installed and upgraded in it without touching Python itself.",
    }),
    "00.2": Question(correct="a", why={
        "a": "Right: a cell's code only takes effect when the cell runs. Run the exercise cell "
             "(Shift+Enter), then the self-check again.",
        "b": "Nothing in the course needs the internet: the self-checks compare your answer with "
             "a reference computed on your own laptop.",
        "c": "The self-checks are written for you: they check whatever your exercise cell stored "
             "when it last ran.",
        "d": "Self-checks never time out; 'not answered yet' means the stored value is still the "
             "placeholder (None) or the function still raises NotImplementedError.",
    }),
    "00.3": Question(correct="d", why={
        "a": "The notebooks never query the internet at run time: they run offline, in a classroom "
             "or on a train.",
        "b": "scikit-learn ships the handwritten digits of notebooks 04-05, not spectra. The course's "
             "emission lines are computed by a photoionization code, not observed.",
        "c": "Nothing is downloaded, not even once. The course builds its larger files from the "
             "installed grid on first use and keeps them in data/generated/.",
        "d": "Right: the NebulaBayes package (Thomas et al. 2018) installs the MAPPINGS 5.1 grids; "
             "the course reads them and interpolates its libraries from them.",
    }),
}
