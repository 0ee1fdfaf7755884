"""One BLAS thread for the course's small matrices, in this process or in the ones it starts."""

from __future__ import annotations

from collections.abc import MutableMapping

from threadpoolctl import ThreadpoolController

#: Environment variables that set the BLAS and OpenMP threads of a process; they are read when
#: numpy loads, so a process's own must be set before it imports numpy.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_CONTROLLER: ThreadpoolController | None = None


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    The course's networks multiply thin matrices, where threads only add overhead (GAME's
    forward pass: 2-4x faster on one). The BLAS libraries are looked up once per process:
    ``threadpool_limits`` looks them up on every call (3 ms against 0.07 ms; 0.19 s of GAME's
    2.2 s on the class cube, which it predicts block by block).
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def single_threaded(environ: MutableMapping[str, str], keep: bool = True
                    ) -> MutableMapping[str, str]:
    """Set every one of :data:`THREAD_VARIABLES` in ``environ`` to one thread (``keep``: not
    those already set, so a user's own choice stands) and return it.

    For processes that share the cores: the tests and the notebooks they run, the mutation
    runner's workers, the site build's kernels.
    """
    for name in THREAD_VARIABLES:
        if not (keep and name in environ):
            environ[name] = "1"
    return environ
