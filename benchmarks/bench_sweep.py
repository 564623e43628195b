"""Sweeps at scale: an 8-point reservoir sweep serial vs 2 local workers, and compile-once cpp_standalone
sweeps vs compiling per point.

    python benchmarks/run.py --pattern sweep          (or python benchmarks/bench_sweep.py)
"""
import os
import tempfile
import time

GRID = {"eta_when": [0.05, 0.1, 0.2, 0.4], "eta_what": [4e-4, 1e-3]}   # 8 points


def bench_reservoir_workers(quick=True):
    """8-point reservoir sweep (Yamada & Chao 2025): 2 local worker processes (joblib; ours) vs in-process
    (baseline). Same seeds, so the two sweeps must give identical metrics (checked)."""
    from neurosim.sweep import run_sweep

    fixed = {"n_neurons": 200 if quick else 1000, "n_trials": 6 if quick else 40, "target": "numpy"}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        serial = run_sweep("yamada_chao_2025_reservoir", GRID, fixed=fixed, out=os.path.join(tmp, "s"),
                           verbose=False)
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        parallel = run_sweep("yamada_chao_2025_reservoir", GRID, fixed=fixed, out=os.path.join(tmp, "p"),
                             n_jobs=2, verbose=False)
        t_parallel = time.perf_counter() - t0
    cols = ["seed", "rate_hz", "error_first", "error_last"]
    identical = bool(serial.ok and parallel.ok and serial.table[cols].equals(parallel.table[cols]))
    return {"name": "sweep: 8-pt reservoir, 2 workers vs serial", "ours": t_parallel, "baseline": t_serial,
            "identical_results": identical, "points": 8, **fixed, "cores": os.cpu_count()}


def bench_cpp_standalone_compile_once(quick=True):
    """8-point LIF sweep on cpp_standalone: compiled once and re-run with run_args (ours, including the one
    compile in a fresh build folder) vs ``simulate_lif_network(device="cpp_standalone")`` per point, which
    regenerates and recompiles the project each time (baseline). Reports compile time amortised per point."""
    from neurosim import circuits
    from neurosim.sweep import run_sweep

    structure = {"n_neurons": 200 if quick else 1000, "duration": 0.5 if quick else 2.0}
    points = GRID_LIF = {"g": [3.0, 4.0, 5.0, 6.0], "nu_ext_ratio": [1.0, 2.0]}
    saved_env, saved_cache = os.environ.get("NEUROSUITE_BUILD_DIR"), dict(circuits._COMPILED)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NEUROSUITE_BUILD_DIR"] = os.path.join(tmp, "build")      # cold compiler caches for both
        circuits._COMPILED.clear()
        try:
            t0 = time.perf_counter()
            summary = run_sweep("lif_network", GRID_LIF, fixed={**structure, "device": "cpp_standalone"},
                                out=os.path.join(tmp, "ours"), verbose=False)
            t_ours = time.perf_counter() - t0
            net = next(iter(circuits._COMPILED.values()))
            compile_s = net.compile_seconds
            t0 = time.perf_counter()
            for g in points["g"]:
                for ratio in points["nu_ext_ratio"]:
                    circuits.simulate_lif_network(**structure, g=g, nu_ext_ratio=ratio, seed=1,
                                                  device="cpp_standalone")
            t_base = time.perf_counter() - t0
        finally:
            circuits._COMPILED.clear()
            circuits._COMPILED.update(saved_cache)
            if saved_env is None:
                os.environ.pop("NEUROSUITE_BUILD_DIR", None)
            else:
                os.environ["NEUROSUITE_BUILD_DIR"] = saved_env
    run_s = float(summary.table["seconds"].sum()) - compile_s
    return {"name": "sweep: 8-pt LIF cpp_standalone, compile once vs per point", "ours": t_ours,
            "baseline": t_base, "compile_s": compile_s, "compile_amortised_per_point_s": compile_s / 8,
            "run_per_point_s": run_s / 8, "all_ok": summary.ok, **structure}


if __name__ == "__main__":
    for bench in (bench_reservoir_workers, bench_cpp_standalone_compile_once):
        result = bench(quick=True)
        print(result["name"], f"ours {result['ours']:.1f} s, baseline {result['baseline']:.1f} s, "
              f"ratio {result['baseline'] / result['ours']:.2f}", {k: v for k, v in result.items()
                                                                  if k not in ("name", "ours", "baseline")})
