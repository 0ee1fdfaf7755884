"""One BLAS thread for the course's small matrices."""

from __future__ import annotations

from threadpoolctl import ThreadpoolController

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
