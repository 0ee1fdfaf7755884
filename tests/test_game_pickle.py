"""A fitted Game pickled by an earlier layout of course_utils.game loads and predicts the same."""

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
    import io

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
