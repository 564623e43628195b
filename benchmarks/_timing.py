"""Shared timing for benchmarks: wall time and peak Python-heap memory (tracemalloc) of one call."""
import time
import tracemalloc


def timed(fn):
    """Run ``fn()``; return (its result, seconds, peak MiB allocated during the call)."""
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, seconds, peak / 2 ** 20
