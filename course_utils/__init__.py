"""Support package for the course *Machine Learning on Galaxy Spectra*.

One module per idea:

- :mod:`course_utils.checks`    self-check helpers used by exercise cells
- :mod:`course_utils.notebooks` build student notebooks from ``solutions/``
- :mod:`course_utils.setup_check` the ``python -m course_utils check`` command
- :mod:`course_utils.library`   the emission-line library (MAPPINGS grid, line names, GAME files)
- :mod:`course_utils.game`      the GAME estimator, its validation and plots
- :mod:`course_utils.bayes`     Bayesian grid likelihood, GAME's classical peer
- :mod:`course_utils.game_cli`  the ``game`` command
"""

__version__ = "0.1.0"
