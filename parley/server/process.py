"""How a serving process runs: native thread pools of one thread, fewer cyclic-GC passes, and the
loaded model kept out of the cyclic collector's view.

Only the serving entry points call this (`serve.serve` in a single server and in each forked
worker, `workers.Supervisor` before it forks): `parley shell`, `parley test`, notebooks and tests
keep Python's and the libraries' defaults. Nothing here runs on import.
"""

from __future__ import annotations

import gc
import logging
import os

logger = logging.getLogger("parley.server")

# A server allocates a lot per message and keeps little: the cyclic collector's default young
# threshold (700 allocations) runs it a dozen times per message and promotes cached trackers into
# generations whose collections pause every request in flight. Measured with 2 workers, wrk c=32
# (alternating runs): p99 113-118 -> 82-100 ms, max 381-414 -> 161-197 ms. Reference counting
# still frees almost everything at once; only cycles wait a little longer.
SERVER_GC_THRESHOLDS = (50_000, 50, 100)

# Libraries loaded after the pools are pinned (onnxruntime on first use, say) read these at load.
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def pin_native_threads() -> dict[str, int]:
    """One thread in every BLAS/OpenMP pool of this process, and in those loaded later.

    A server runs one process per core; a pool of one thread per core in each process makes the
    processes fight over the cores (measured on 2 cores, 2 workers, c=32: 315-343 msgs/s and p99
    184-213 ms unpinned, 1564 msgs/s and p99 40 ms pinned). Returns each pool's threads now.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    for name in _THREAD_ENV:
        os.environ[name] = "1"
    threadpool_limits(limits=1)
    pools: dict[str, int] = {}
    for pool in threadpool_info():
        name = str(pool.get("internal_api") or pool.get("prefix"))
        pools[name] = max(pools.get(name, 0), int(pool.get("num_threads", 0)))
    return pools


def tune_gc() -> None:
    """Collect cycles less often in a serving process (see SERVER_GC_THRESHOLDS)."""
    gc.set_threshold(*SERVER_GC_THRESHOLDS)


def freeze_loaded() -> None:
    """Move what is loaded now (the model's many objects) out of the cyclic collector's view:
    its full collections under load go from ~130 ms pauses to ~15 ms, and forked workers keep
    sharing those pages. Objects freed by reference counting still go."""
    gc.collect()
    gc.freeze()


def release_replaced() -> int:
    """After a model swap: find the replaced model's cycles (frozen with it, if this process
    froze) and freeze again what is still in use. Returns the objects freed."""
    frozen = gc.get_freeze_count() > 0
    if frozen:
        gc.unfreeze()
    freed = gc.collect()
    if frozen:
        gc.freeze()
    return freed


def prepare_serving_process() -> None:
    """Everything above, once the model is loaded and before the first request."""
    pools = pin_native_threads()
    tune_gc()
    freeze_loaded()
    logger.info(
        "native thread pools: %s",
        ", ".join(f"{name} {threads}" for name, threads in sorted(pools.items())) or "none",
        extra={"pid": os.getpid(), "native_threads": pools},
    )
