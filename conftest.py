"""Settings for the whole test run, notebooks included.

Notebook kernels inherit this environment: one BLAS thread each, because pytest-xdist
already runs one notebook per core.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
