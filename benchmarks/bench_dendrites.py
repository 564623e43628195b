"""Benchmarks for neurosim.dendrites: ours vs a baseline in the same run (seconds; lower is better)."""
import time
from fractions import Fraction
from math import comb

import numpy as np


def bench_exact_fp(quick=True):
    """Exact P_FP for 10^4 parameter sets: vectorised log-space kernel vs math.comb/Fraction, same sets."""
    from neurosim.dendrites.theory import log_p_false_positive

    rng = np.random.default_rng(0)
    count = 10_000
    n = rng.integers(1000, 20001, count)
    a = np.maximum(1, (n * rng.uniform(0.005, 0.03, count)).astype(int))
    s = rng.integers(10, 51, count)
    theta = np.minimum(s, rng.integers(3, 25, count))
    t0 = time.perf_counter()
    ours = np.exp(log_p_false_positive(n, a, s, theta))
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = np.array([float(Fraction(sum(comb(int(si), b) * comb(int(ni - si), int(ai - b))
                                       for b in range(int(ti), int(min(si, ai)) + 1)), comb(int(ni), int(ai))))
                    for ni, ai, si, ti in zip(n, a, s, theta)])
    t_base = time.perf_counter() - t0
    nz = ref > 0
    rel = float(np.max(np.abs(ours[nz] - ref[nz]) / ref[nz]))
    return {"name": "dendrites_exact_fp_1e4_sets", "ours": t_ours, "baseline": t_base, "max_rel_error": rel,
            "zero_mismatch": int(np.count_nonzero((ours == 0) != (ref == 0)))}


def _dense_gather_count(patterns, segments, n, theta):
    """Baseline Monte Carlo kernel: dense 0/1 patterns, gather each segment's synapses, sum, threshold."""
    dense = np.zeros((len(patterns), n), dtype=np.uint8)
    dense[np.arange(len(patterns))[:, None], patterns] = 1
    hits = 0
    for chunk in np.array_split(segments, max(1, len(segments) // 100)):
        hits += int(np.count_nonzero(dense[:, chunk].sum(axis=2, dtype=np.int16) >= theta))
    return hits


def bench_monte_carlo(quick=True):
    """Segment-pattern comparisons per second: sparse product (ours) vs dense gather-and-sum (baseline)."""
    from neurosim.dendrites.montecarlo import _count_matches, _rows_to_csr, random_sdrs

    n, a, s, theta = 10000, 300, 24, 4
    P = S = 2000 if quick else 6000
    pats, segs = random_sdrs(n, a, P, 1), random_sdrs(n, s, S, 2)
    t0 = time.perf_counter()
    ours_hits = _count_matches(_rows_to_csr(pats, n), _rows_to_csr(segs, n), theta)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    base_hits = _dense_gather_count(pats, segs, n, theta)
    t_base = time.perf_counter() - t0
    assert ours_hits == base_hits
    return {"name": "dendrites_monte_carlo_comparisons", "ours": t_ours, "baseline": t_base,
            "comparisons": P * S, "ours_comparisons_per_s": P * S / t_ours,
            "baseline_comparisons_per_s": P * S / t_base}


def _brian2_run(target, windows):
    from neurosim.dendrites.montecarlo import random_sdrs
    from neurosim.dendrites.neurons import ActiveDendriteNeurons

    model = ActiveDendriteNeurons(n_inputs=2000, n_active=40, n_neurons=1000, n_segments=20, n_synapses=20,
                                  theta=10, target=target, seed=0).learn()
    run = model.present(random_sdrs(2000, 40, windows, 1), record_v=0)
    return run.wall_seconds, windows * model.params_.period


def bench_brian2_neurons(quick=True):
    """1000 neurons x 20 segments (20 000 segments, 400 000 synapses): wall seconds per simulated second.

    ours: Brian2 runtime, numpy target (what the tests and CLI use: no compiler needed); baseline: the cython
    target on the same network, timed after a warm-up run of the same size (so compilation is excluded).
    """
    windows = 10 if quick else 50
    t_np, sim = _brian2_run("numpy", windows)
    out = {"name": "dendrites_brian2_1000x20", "ours": t_np / sim, "ours_simulated_s_per_wall_s": sim / t_np}
    try:
        _brian2_run("cython", windows)  # compiles (cached by Brian2 for later runs)
        t_cy, _ = _brian2_run("cython", windows)
    except Exception as exc:  # no compiler here: compare with numpy itself
        return out | {"baseline": t_np / sim, "note": f"cython unavailable ({type(exc).__name__})"}
    return out | {"baseline": t_cy / sim, "baseline_simulated_s_per_wall_s": sim / t_cy}


if __name__ == "__main__":
    import sys
    quick = "--full" not in sys.argv
    for bench in (bench_exact_fp, bench_monte_carlo, bench_brian2_neurons):
        r = bench(quick)
        print(r["name"], f"ours={r['ours']:.4g}s baseline={r['baseline']:.4g}s ratio={r['baseline'] / r['ours']:.1f}x",
              {k: v for k, v in r.items() if k not in ("name", "ours", "baseline")})
