"""A fitted Game pickled by an earlier layout of course_utils.game loads and predicts the same."""

import io
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

FIXTURE = Path(__file__).parent / "data" / "game_fitted_before_package.pkl"


class _Recorder(pickle.Unpickler):
    """An unpickler that notes every course_utils class a pickle asks for."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked = set()

    def find_class(self, module, name):
        if module.startswith("course_utils"):
            self.asked.add(f"{module}.{name}")
        return super().find_class(module, name)


@pytest.fixture(scope="module")
def fixture():
    with open(FIXTURE, "rb") as fh:
        return pickle.load(fh)


def test_a_game_pickled_by_the_single_module_loads_and_predicts_the_same(fixture):
    if fixture["scikit-learn"] != sklearn.__version__:
        pytest.skip(f"the fixture's networks were pickled by scikit-learn {fixture['scikit-learn']}"
                    f" (this is {sklearn.__version__}); scikit-learn pickles are version-bound")
    recorder = _Recorder(io.BytesIO(fixture["game"]))
    game = recorder.load()
    # the old pickle names the estimator and its internal parts by the module's path
    assert "course_utils.game.Game" in recorder.asked
    assert "course_utils.game._MultiOutput" in recorder.asked
    assert "course_utils.game._Calibration" in recorder.asked
    table = game.predict(fixture["intensities"], fixture["errors"])
    expected = pd.DataFrame(fixture["table"])
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    # and it goes on working: a pattern it has not met trains and calibrates from its state
    I = fixture["intensities"][:2].copy()
    I[:, 0] = 0.0
    assert np.isfinite(game.predict(I, 0.1 * I)["12+log(O/H)_median"]).all()


def test_a_game_pickled_now_loads_and_predicts_the_same():
    from course_utils.game import Game
    from course_utils.library import MUSE_LINES, build_library

    I = build_library(4, list(MUSE_LINES), seed=1).intensities
    game = Game(n_draws=20).fit(build_library(300, list(MUSE_LINES), seed=0))
    table = game.predict(I, 0.1 * I)
    loaded = pickle.loads(pickle.dumps(game))
    pd.testing.assert_frame_equal(loaded.predict(I, 0.1 * I), table, check_exact=True)
