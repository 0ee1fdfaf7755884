"""Emission-line names: one canonical name per line, aliases, GAME labels, derived lines.

Canonical names are the column names of the MAPPINGS grid (``Hbeta``, ``OIII5007``,
``NII6583``, ...) plus two lines whose ratio to a grid line is fixed by atomic physics
(:data:`DERIVED_LINES`). :func:`canonical_line` also accepts

- the CLOUDY 13 labels used in GAME's input files (``H-beta 4861A``, ``[O III] 5007A``,
  ``He I  6678A`` with its double space, ``[N II] 6584A``, ...);
- any spelling ``<ion><wavelength>`` with brackets, spaces, dashes or a trailing ``A``, whose
  wavelength lies within a tolerance of the line's (``NII6584``, ``[SII]6717``, ``O III 5007``);
- a wavelength in Angstrom (air), matched to the nearest line within a tolerance.
"""

from __future__ import annotations

import difflib
import functools
import re

import numpy as np
import pandas as pd

from ..diagnostics import NII_6584_6548, OIII_5007_4959
from .grid import grid_path, load_grid


class UnknownLineError(KeyError, ValueError):
    """A line name or wavelength that matches no line of the library."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


#: Lines computed from a grid line with a ratio fixed by atomic physics (the two lines of
#: each doublet come from the same upper level): name -> (parent, ratio to parent, air
#: wavelength in Angstrom, species). The ratios are those of :mod:`course_utils.diagnostics`:
#: [OIII] 5007/4959 = 2.98 (Storey & Zeippen 2000, MNRAS 312, 813); [NII] 6584/6548 = 2.94
#: (Acker et al. 1989, as adopted in e.g. Osterbrock & Ferland 2006).
DERIVED_LINES = {
    "OIII4959": ("OIII5007", 1 / OIII_5007_4959, 4958.91, "O III"),
    "NII6548": ("NII6583", 1 / NII_6584_6548, 6548.05, "N II"),
}

#: GAME / CLOUDY 13 labels that cannot be written from species and rounded wavelength alone.
_GAME_LABELS = {
    "Halpha": "H-alpha 6563A", "Hbeta": "H-beta 4861A", "Hgamma": "H-gamma 4340A",
    "Hdelta": "H-delta 4102A", "HeI6678": "He I  6678A", "NII6583": "[N II] 6584A",
}
#: Permitted lines (no square brackets in their labels).
_PERMITTED = {"H I", "He I", "He II"}

#: Names suggested when nothing resembles an unknown name.
_COMMON = ("Hbeta", "OIII5007", "Halpha", "NII6583", "SII6716", "SII6731")

#: Default matching tolerance in Angstrom for wavelengths (numbers and names with a number).
WAVELENGTH_TOLERANCE = 2.0


@functools.lru_cache(maxsize=1)
def _grid_line_table() -> pd.DataFrame:
    path = grid_path("HII").parent / "Linelist.csv"
    table = pd.read_csv(path, lineterminator="\r", skipinitialspace=True)
    table.columns = [c.strip() for c in table.columns]
    table = table.rename(columns={"Grid_name": "name", "Lambda_AA": "wavelength",
                                  "Species": "species"})
    table["name"] = table["name"].str.strip()
    table["species"] = table["species"].str.strip()
    return table.set_index("name")[["wavelength", "species"]]


#: Grid columns that hold the sum of two lines of a doublet (``OII3726_29`` = 3726 + 3729).
_BLEND = re.compile(r"^([A-Za-z]+?)(\d+)_(\d+)$")


def line_table(kind: str = "HII", derived: bool = False) -> pd.DataFrame:
    """Air wavelength (Angstrom) and species of every line, from NebulaBayes' line list.

    Parameters
    ----------
    kind
        Kept for compatibility: both MAPPINGS grids share one line list.
    derived
        Also list the lines that are not in the line list: :data:`DERIVED_LINES` (with
        columns ``parent`` and ``ratio``) and the grid's doublet sums such as ``OII3726_29``
        (at the mean wavelength of the two lines).
    """
    table = _grid_line_table().copy()
    if not derived:
        return table
    table["parent"], table["ratio"] = None, np.nan
    rows = {name: (w, s, p, r) for name, (p, r, w, s) in DERIVED_LINES.items()}
    for name in load_grid("HII").attrs["lines"]:
        match = _BLEND.match(name)
        if match and name not in table.index:
            ion, first, second = match.groups()
            parts = [ion + first, ion + first[: len(first) - len(second)] + second]
            if all(p in table.index for p in parts):
                rows[name] = (float(table.loc[parts, "wavelength"].mean()),
                              table.at[parts[0], "species"], None, np.nan)
    extra = pd.DataFrame(list(rows.values()), index=pd.Index(list(rows), name="name"),
                         columns=["wavelength", "species", "parent", "ratio"])
    return pd.concat([table, extra]).sort_values("wavelength", kind="stable")


def game_label(name: str | float) -> str:
    """The GAME / CLOUDY 13 label of a line, e.g. ``"[N II] 6584A"`` for ``NII6583``."""
    return _catalogue()[0].at[canonical_line(name), "label"]


def _key(text: str) -> tuple[str, float | None]:
    """Split a spelling such as ``'[N II] 6584A'`` into ``('nii', 6584.0)``."""
    s = re.sub(r"[\s\[\]\(\)\-_]", "", text.lower())
    match = re.fullmatch(r"([a-z]*?)(\d+(?:\.\d*)?)?(?:a|aa|å|angstrom)?", s)
    if not match:
        return s, None
    ion, number = match.groups()
    return ion, (float(number) if number else None)


@functools.lru_cache(maxsize=1)
def _catalogue() -> tuple[pd.DataFrame, dict[str, str]]:
    """Line table with the ion keys each line answers to, and the exact-alias map."""
    table = line_table(derived=True)
    keys = []
    for name, row in table.iterrows():
        own = _key(name)[0]  # 'halpha', 'nii', 'neiv'
        ion = row["species"].lower().replace(" ", "")  # 'hi', 'nii'
        keys.append({own, ion} | ({"h"} if ion == "hi" else set()))
    table = table.assign(keys=keys, label=[_label(n, table) for n in table.index])
    # lines closer than 1 A share a rounded label: give those one decimal instead
    clash = table["label"].duplicated(keep=False) & ~table.index.isin(list(_GAME_LABELS))
    table.loc[clash, "label"] = [_label(n, table, decimals=1) for n in table.index[clash]]
    aliases = {name: name for name in table.index}
    aliases.update({label: name for name, label in table["label"].items()})
    return table, aliases


def _label(name: str, table: pd.DataFrame, decimals: int = 0) -> str:
    if name in _GAME_LABELS and not decimals:
        return _GAME_LABELS[name]
    wave = table.at[name, "wavelength"]
    # CLOUDY rounds half up
    wave = f"{np.floor(wave + 0.5):.0f}" if not decimals else f"{wave:.{decimals}f}"
    species = table.at[name, "species"]
    return f"{species} {wave}A" if species in _PERMITTED else f"[{species}] {wave}A"


def valid_lines() -> list[str]:
    """Every canonical line name, in order of wavelength."""
    return list(_catalogue()[0].index)


def _closest(text: str, wavelength: float | None) -> list[str]:
    """Up to five suggestions: the lines nearest in wavelength, then similar spellings."""
    table, aliases = _catalogue()
    names = []
    if wavelength is not None:
        order = np.argsort(np.abs(table["wavelength"].to_numpy() - wavelength))[:3]
        names += list(table.index[order])
    names += [aliases[n] for n in difflib.get_close_matches(text, list(aliases), n=5, cutoff=0.5)]
    return list(dict.fromkeys(names or _COMMON))[:5]


def canonical_line(name: str | float, tolerance: float = WAVELENGTH_TOLERANCE) -> str:
    """The canonical name of a line given by name, alias, GAME label or wavelength.

    Parameters
    ----------
    name
        ``"Halpha"``, ``"H-alpha 6563A"``, ``"NII6584"``, ``"[S II] 6717"``, ``6583.45`` ...
    tolerance
        Largest difference in Angstrom between a given wavelength (alone or in a name)
        and the line's air wavelength.

    Raises
    ------
    UnknownLineError
        No line matches; the message lists the closest valid names.
    """
    table, aliases = _catalogue()
    if isinstance(name, str):
        if name in aliases:
            return aliases[name]
        stripped = " ".join(name.split())
        for alias, canonical in aliases.items():
            if " ".join(alias.split()) == stripped:
                return canonical
        ion, wavelength = _key(name)
    elif isinstance(name, (int, float, np.number)) and not isinstance(name, bool):
        ion, wavelength = "", float(name)
    else:
        raise UnknownLineError(f"a line is given by name or wavelength, got {name!r}")
    candidates = table
    if ion:
        candidates = table[[ion in k for k in table["keys"]]]
    if wavelength is not None:
        distance = np.abs(candidates["wavelength"].to_numpy() - wavelength)
        candidates = candidates.iloc[np.argsort(distance)][np.sort(distance) <= tolerance]
        if len(candidates):
            return str(candidates.index[0])
    elif len(candidates) == 1:
        return str(candidates.index[0])
    raise UnknownLineError(
        f"unknown emission line {name!r}"
        + (f" (no line of this ion within {tolerance} A)" if wavelength is not None else "")
        + f"; closest valid names: {', '.join(_closest(str(name), wavelength))}")


def canonical_lines(names) -> list[str]:
    """:func:`canonical_line` for each name; raises if two names mean the same line."""
    out = [canonical_line(n) for n in names]
    seen: dict[str, object] = {}
    for given, c in zip(names, out):
        if c in seen:
            raise ValueError(f"{seen[c]!r} and {given!r} are the same line ({c})")
        seen[c] = given
    return out
