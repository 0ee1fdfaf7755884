"""Line names, aliases, GAME labels and wavelengths."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import library as L

# GAME's own label file (Ucci et al. public code, input/labels.dat) and the MUSE set
GAME_LABELS = {
    "[O II] 3726A": "OII3726", "[O II] 3729A": "OII3729", "[Ne III] 3869A": "NeIII3869",
    "H-delta 4102A": "Hdelta", "H-gamma 4340A": "Hgamma", "[O III] 4363A": "OIII4363",
    "H-beta 4861A": "Hbeta", "[O III] 4959A": "OIII4959", "[O III] 5007A": "OIII5007",
    "He I 5876A": "HeI5876", "[O I] 6300A": "OI6300", "[N II] 6548A": "NII6548",
    "H-alpha 6563A": "Halpha", "[N II] 6584A": "NII6583", "He I  6678A": "HeI6678",
    "[S II] 6716A": "SII6716", "[S II] 6731A": "SII6731", "[S III] 9069A": "SIII9069",
}


@pytest.mark.parametrize("label, name", GAME_LABELS.items())
def test_game_labels_map_to_canonical_names_and_back(label, name):
    assert L.canonical_line(label) == name
    assert L.game_label(name) == label


@pytest.mark.parametrize("alias, name", [
    ("Hbeta", "Hbeta"), ("halpha", "Halpha"), ("NII6584", "NII6583"), ("[NII]6584", "NII6583"),
    ("SII6717", "SII6716"), ("[S II] 6717", "SII6716"), ("O III 5007", "OIII5007"),
    ("He I 6678A", "HeI6678"), ("[O II] 3727", "OII3726_29"), ("6563", "Halpha"),
    (6583.45, "NII6583"), (4958.9, "OIII4959"), (6548, "NII6548"), (9069, "SIII9069"),
])
def test_aliases_and_wavelengths(alias, name):
    assert L.canonical_line(alias) == name


def test_unknown_names_list_the_closest_valid_names():
    with pytest.raises(L.UnknownLineError, match=r"'Hbeat'.*closest valid names: Hbeta"):
        L.canonical_line("Hbeat")
    # [Ar III] 7135 is not computed by the grid: the error suggests lines near 7135 A
    with pytest.raises(L.UnknownLineError, match=r"closest valid names: .*HeI7065"):
        L.canonical_line("[Ar III] 7135A")
    with pytest.raises(L.UnknownLineError, match="within 2.0 A"):
        L.canonical_line(5100.0)
    with pytest.raises(KeyError):  # usable as a KeyError and as a ValueError
        L.canonical_line("OIII")
    with pytest.raises(ValueError):
        L.canonical_line(None)


def test_tolerance_is_respected():
    assert L.canonical_line(6566.0, tolerance=5) == "Halpha"
    with pytest.raises(L.UnknownLineError):
        L.canonical_line(6566.0, tolerance=1)


def test_line_table_wavelengths_are_air():
    table = L.line_table(derived=True)
    # air wavelengths of Halpha and [OIII]5007 (NIST); vacuum would be 6564.6 and 5008.2
    assert table.at["Halpha", "wavelength"] == pytest.approx(6562.8, abs=0.1)
    assert table.at["OIII5007", "wavelength"] == pytest.approx(5006.8, abs=0.1)
    assert table.at["NII6548", "parent"] == "NII6583"
    assert set(L.MUSE_LINES) <= set(L.valid_lines())


def test_every_line_round_trips_through_its_label_and_wavelength():
    table = L.line_table(derived=True)
    labels = [L.game_label(n) for n in L.valid_lines()]
    assert len(set(labels)) == len(labels)  # labels are unique
    for name, label in zip(L.valid_lines(), labels):
        assert L.canonical_line(label) == name
        assert L.canonical_line(float(table.at[name, "wavelength"])) == name


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=20), st.floats(allow_nan=True, allow_infinity=True)))
def test_any_input_gives_a_line_or_the_clear_error(value):
    try:
        name = L.canonical_line(value)
    except L.UnknownLineError as exc:
        assert "closest valid names" in str(exc) or "name or wavelength" in str(exc)
    else:
        assert name in L.valid_lines()
