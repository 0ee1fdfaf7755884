"""MUSE data cubes of Henize 2-10: a synthetic cube with known truth and the analysis pipeline.

- :mod:`~course_utils.cube.henize2_10` the galaxy's position, redshift, distance, published values
- :mod:`~course_utils.cube.muse`      the MUSE format and :func:`read_muse_cube`
- :mod:`~course_utils.cube.synthetic` :func:`make_henize2_10_cube`, :func:`load_henize2_10_cube`
- :mod:`~course_utils.cube.lines`     emission-line maps (:func:`fit_line_maps`, :func:`fit_spaxel`)
- :mod:`~course_utils.cube.linefit`   the batched fits behind them: Gaussian blends, least squares
- :mod:`~course_utils.cube.maps`      GAME per spaxel, map files, radial profiles, BPT map, plots
- :mod:`~course_utils.cube.classical` Balmer-decrement A_V, [SII] density, [NII]/[SIII] Te,
  strong-line O/H: the classical maps beside GAME's
- :mod:`~course_utils.cube.pipeline`  the whole chain, in memory or in chunks on dask

Typical use (the GAME estimator comes from :mod:`course_utils.game`)::

    from course_utils import cube
    from course_utils.game import Game
    from course_utils.library import build_library

    path = cube.load_henize2_10_cube(size=40)          # generated once, then cached
    data = cube.read_muse_cube(path)                   # also reads real MUSE pipeline cubes
    lines = cube.fit_line_maps(data)                   # GAME's ten lines, every spaxel
    game = Game(n_draws=100).fit(build_library(20_000, av_range=(0, 6)))
    props = cube.game_maps(lines, game)                # props["12+log(O/H)_mean"], ...
    profile = cube.radial_profile(props["12+log(O/H)_mean"], props.wcs)
    result = cube.run_pipeline(path, game, scheduler="local")   # the same on dask

References: Cresci et al. 2017, A&A 604, A101 and Ucci et al. 2019, MNRAS 483, 1295 (Henize 2-10
with MUSE); Bacon et al. 2010, SPIE 7735 (MUSE).
"""

from .lines import (DETECTED, GAME_UPPER_LIMIT, MISSING, UPPER_LIMIT, LineMaps, fit_line_maps,
                    fit_spaxel)
from .maps import (PropertyMaps, arcsec_to_pc, bpt_map, game_maps, log_ratio_map, plot_bpt_map, plot_map,
                   plot_profile, plot_property_maps, prepare_game, radial_profile, read_maps,
                   write_maps)
from .muse import CubeError, CubeWarning, MuseCube, instrumental_sigma, read_muse_cube
from .pipeline import PipelineResult, run_pipeline
from .classical import balmer_av, deredden, sii_density, strong_line_oh, te_nii, te_siii
from .henize2_10 import CRESCI2017, DISTANCE, HENIZE2_10, NGUYEN2014, REDSHIFT, UCCI2019
from .synthetic import load_henize2_10_cube, make_henize2_10_cube, read_truth, truth_path_of

__all__ = ["CRESCI2017", "NGUYEN2014", "UCCI2019", "CubeError", "CubeWarning", "DETECTED", "DISTANCE", "GAME_UPPER_LIMIT", "HENIZE2_10", "LineMaps", "log_ratio_map",
           "MISSING", "MuseCube", "PipelineResult", "PropertyMaps", "REDSHIFT", "UPPER_LIMIT",
           "arcsec_to_pc", "balmer_av", "bpt_map", "deredden", "fit_line_maps", "fit_spaxel", "game_maps",
           "instrumental_sigma", "load_henize2_10_cube", "make_henize2_10_cube", "plot_bpt_map",
           "plot_map", "plot_profile", "plot_property_maps", "prepare_game", "radial_profile",
           "read_maps",
           "read_muse_cube", "read_truth", "run_pipeline", "sii_density", "strong_line_oh",
           "te_nii", "te_siii", "truth_path_of", "write_maps"]
