"""Benchmarks of the dynamic connectome (issue 4): our NTF vs plain tensorly HALS, and whole-brain memory/time.

    python benchmarks/bench_connectome.py [--full]

bench_ntf_vs_tensorly: one fit each on the same planted tensor, same rank, random start, same tolerance:
    ours = neurodata.connectome.NTF (tensorly's HALS update, copy-free MTTKRP, 1 restart),
    baseline = tensorly.decomposition.non_negative_parafac_hals (init="random").
bench_whole_brain: N=300 neurons (44,850 pairs) × T=2000 frames × 5 animals, rank 10, float32, chunked
    affinities; each side runs in a fresh process so its peak RSS is its own. The baseline is the same tensor
    factorised by plain tensorly HALS (same sweeps). Quick mode: N=150, T=1000.
"""
import multiprocessing as mp
import resource
import time

import numpy as np


def bench_ntf_vs_tensorly(quick=True):
    """One NTF fit on a planted tensor (ours: neurodata.connectome.NTF, 1 restart) vs tensorly's
    non_negative_parafac_hals (baseline), same rank, random start and tolerance."""
    from tensorly.decomposition import non_negative_parafac_hals

    from neurodata.connectome import NTF, factor_match_score
    from neurosim.groundtruth.connectome import planted_ntf_tensor

    n_neurons, n_times = (30, 200) if quick else (100, 1000)
    tensor, truth = planted_ntf_tensor(n_components=4, n_neurons=n_neurons, n_times=n_times,
                                       clique_size=8 if quick else 20, seed=0)
    tol, n_iter = 1e-6, 1000
    t0 = time.perf_counter()
    ours = NTF(rank=4, n_restarts=1, n_iter_max=n_iter, tol=tol, seed=0).fit(tensor)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    cp, errors = non_negative_parafac_hals(tensor, rank=4, n_iter_max=n_iter, init="random", tol=tol,
                                           random_state=0, return_errors=True)
    t_base = time.perf_counter() - t0
    return {"name": f"ntf_vs_tensorly_hals ({'x'.join(map(str, tensor.shape))}, rank 4)",
            "ours": t_ours, "baseline": t_base,
            "error_ours": ours.reconstruction_error_, "error_baseline": float(errors[-1]),
            "fms_ours": factor_match_score(ours.factors_, truth),
            "fms_baseline": factor_match_score(cp.factors, truth)}


def _whole_brain_child(queue, side, n_neurons, n_frames, n_animals, rank, n_sweeps):
    """Build the affinity tensor (chunked, float32) and factorise it; report time and this process's peak RSS."""
    from neurodata.connectome import NTF
    from neurodata.connectome.tensor import build_affinity_tensor
    from neurosim.groundtruth.connectome import (
        default_motifs,
        simulate_dynamic_communities,
    )

    members = default_motifs(n_neurons, n_motifs=rank, motif_size=n_neurons // (rank + 2), seed=0)
    sim = simulate_dynamic_communities(n_neurons=n_neurons, n_animals=n_animals, duration=n_frames / 10.0,
                                       rate=10.0, members=members, seed=0)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    tensor, *_ = build_affinity_tensor(sim.traces, smooth=0.2, window=3.0, z=2.5, resolution=None,
                                       dtype=np.float32, chunk_pairs=4096)
    t_aff = time.perf_counter() - t0
    del sim
    t0 = time.perf_counter()
    if side == "ours":
        model = NTF(rank=rank, n_restarts=1, n_iter_max=n_sweeps, tol=0.0, seed=0)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fixed sweep count on purpose
            model.fit(tensor)
        err = model.reconstruction_error_
    else:
        from tensorly.decomposition import non_negative_parafac_hals
        _, errors = non_negative_parafac_hals(tensor, rank=rank, n_iter_max=n_sweeps, init="random", tol=1e-12,
                                              random_state=0, return_errors=True)
        err = float(errors[-1])
    t_ntf = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    queue.put({"affinity_s": t_aff, "ntf_s": t_ntf, "peak_rss_gb": peak / 2 ** 20,
               "rss_before_gb": rss0 / 2 ** 20, "tensor_gb": tensor.nbytes / 2 ** 30, "error": float(err)})


def _run_child(*args):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_whole_brain_child, args=(queue, *args))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def bench_whole_brain(quick=True):
    """Whole-brain scale (5 animals, rank 10, float32 chunked affinities, 20 HALS sweeps), each side in a fresh
    spawned process for its own peak RSS: NTF (ours) vs plain tensorly HALS (baseline) on the same tensor."""
    n_neurons, n_frames = (150, 1000) if quick else (300, 2000)
    n_animals, rank, n_sweeps = 5, 10, 20
    # the child is pickled by module name (bench_connectome._whole_brain_child): run.py imports this module
    # by name from benchmarks/ on sys.path, which spawned children inherit
    ours = _run_child("ours", n_neurons, n_frames, n_animals, rank, n_sweeps)
    base = _run_child("tensorly", n_neurons, n_frames, n_animals, rank, n_sweeps)
    n_pairs = n_neurons * (n_neurons - 1) // 2
    return {"name": f"whole_brain N={n_neurons} ({n_pairs} pairs) T={n_frames} x{n_animals} rank {rank}, "
                    f"{n_sweeps} HALS sweeps",
            "ours": ours["ntf_s"], "baseline": base["ntf_s"],
            "affinity_s": ours["affinity_s"], "tensor_gb": ours["tensor_gb"],
            "peak_rss_gb_ours": ours["peak_rss_gb"], "peak_rss_gb_baseline": base["peak_rss_gb"],
            "error_ours": ours["error"], "error_baseline": base["error"],
            "within_8gb": ours["peak_rss_gb"] <= 8.0}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    for bench in (bench_ntf_vs_tensorly, bench_whole_brain):
        res = bench(quick=not args.full)
        ratio = res["baseline"] / res["ours"] if res["ours"] else float("nan")  # > 1: ours faster (as run.py)
        print(f"{res['name']}: ours {res['ours']:.3f} s, baseline {res['baseline']:.3f} s, ratio {ratio:.2f}")
        print(json.dumps(res, indent=1, default=float))
