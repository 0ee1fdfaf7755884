"""Support package for the course *Machine Learning on Galaxy Spectra*.

One module per idea:

- :mod:`course_utils.checks`    self-check helpers used by exercise cells
- :mod:`course_utils.cube`      MUSE cubes: synthetic Henize 2-10, reader, line maps, GAME maps
- :mod:`course_utils.notebooks` build student notebooks from ``solutions/``
- :mod:`course_utils.setup_check` the ``python -m course_utils check`` command
- :mod:`course_utils.nebular`   direct-method electron temperature and density (PyNeb)
- :mod:`course_utils.library`   the emission-line library (MAPPINGS grid, line names, GAME files)
- :mod:`course_utils.bigdata`   transfer times, read-versus-compute timing, k-fold splits (notebook 01)
- :mod:`course_utils.trees`     impurity, best split and a small decision tree (notebook 02)
- :mod:`course_utils.bpt`       HII-versus-AGN models in the BPT plane (notebooks 02-03)
- :mod:`course_utils.boosting`  AdaBoost SAMME and AdaBoost.R2 from scratch (notebook 03)
- :mod:`course_utils.nn`        a one-hidden-layer neural network in numpy (notebook 04)
- :mod:`course_utils.cnn`       a small convolutional network in numpy (notebook 05)
- :mod:`course_utils.game`      the GAME estimator, its validation and plots
- :mod:`course_utils.bayes`     Bayesian grid likelihood, GAME's classical peer
- :mod:`course_utils.game_cli`  the ``game`` command
"""

__version__ = "0.1.0"
