"""The course's emission-line libraries, built from the MAPPINGS 5.1 HII-region grid or from
the Cloudy 17 grids of HII-CHI-mistry (:mod:`~course_utils.library.cloudy`).

GAME learns from a library of model line intensities with known physical parameters. The
original GAME library is not public, so the course builds its own from the MAPPINGS 5.1
HII-region grid that ships inside the PyPI package NebulaBayes (MIT licence; Thomas et al.
2018, ApJ 856, 89): 9 log U x 12 log P/k x 12 values of 12 + log(O/H), ~100 lines, fluxes
relative to H-beta.

Submodules (everything public is re-exported here):

- :mod:`~course_utils.library.grid`      find, read and validate the grid file
- :mod:`~course_utils.library.cloudy`    read and validate the Cloudy grids, their H-alpha
- :mod:`~course_utils.library.lines`     canonical line names, aliases, GAME labels
- :mod:`~course_utils.library.builder`   :func:`build_library`, :func:`load_library` (cached)
- :mod:`~course_utils.library.gamefiles` GAME's input files and ``library.csv``
- :mod:`~course_utils.library.plots`     ratio diagrams, BPT axes, parameter histograms
"""

from .builder import (ATTENUATION_RANGE, CLOUDY_LABELS, CURVES, DENSITY_TEMPERATURE, LABELS,
                      LIBRARY_GRIDS, MUSE_LINES, PRIORS, R_V, SOLAR_OH, Library, attenuation,
                      build_library, cloudy_model, extinction_curve, grid_axes, grid_model,
                      hcm_allowed, hcm_constraints, library_lines, load_library)
from .cloudy import CLOUDY_GRIDS, CloudyGridError, cloudy_cube, halpha_hbeta, read_cloudy_grid
from .gamefiles import (UPPER_LIMIT, GameFileError, GameInputs, read_game_inputs,
                        read_game_library, write_game_inputs, write_game_library)
from .grid import GRID_PARAMETERS, GRIDS, GridError, grid_cube, grid_path, load_grid
from .plots import bpt_axes, bpt_diagram, parameter_histograms, ratio_diagram
from .lines import (DERIVED_LINES, UnknownLineError, canonical_line, canonical_lines, game_label,
                    line_table, valid_lines)

__all__ = [
    "CLOUDY_GRIDS", "CLOUDY_LABELS", "LIBRARY_GRIDS", "PRIORS", "CloudyGridError", "cloudy_cube",
    "cloudy_model", "grid_axes", "halpha_hbeta", "hcm_allowed", "hcm_constraints", "read_cloudy_grid",
    "ATTENUATION_RANGE", "CURVES", "DENSITY_TEMPERATURE", "DERIVED_LINES", "GRIDS", "GRID_PARAMETERS",
    "LABELS", "MUSE_LINES", "R_V", "SOLAR_OH", "UPPER_LIMIT", "GameFileError", "GameInputs",
    "GridError", "Library", "UnknownLineError", "attenuation", "build_library", "extinction_curve",
    "canonical_line", "canonical_lines", "game_label", "grid_cube", "grid_model", "grid_path",
    "library_lines",
    "line_table", "load_grid", "load_library", "read_game_inputs", "read_game_library",
    "valid_lines", "bpt_axes", "bpt_diagram", "parameter_histograms", "ratio_diagram", "write_game_inputs", "write_game_library",
]
