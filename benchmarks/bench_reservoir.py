"""Simulated seconds per wall second of the N=1000 reservoir (p=0.1, dt=0.5 ms): Brian2 runtime and
cpp_standalone (plasticity on) against the NumPy spnet loop of the same network; N=1e4 (and 1e5 in full
mode) on cpp_standalone with the peak memory of the run; the readouts read a fixed fan-in of
800 neurons (ReservoirParams.readout_fan_in), as at N=1000."""
import resource
import time

from neurosim.backends import default_build_directory
from neurosim.reservoir.baseline_numpy import simulate_numpy
from neurosim.reservoir.network import simulate
from neurosim.reservoir.params import ReservoirParams
from neurosim.reservoir.task import Paradigm


def _paradigm(seconds):
    n = max(1, int(round(seconds / 0.8)))
    return Paradigm([150, 250, 350, 200], [0.25, 0.5, 0.75, 1.0], n, seed=0)


def _rate(res):
    return len(res.spike_i) / res.n_neurons / (res.paradigm.duration_ms / 1e3)


def bench_reservoir_n1000(quick=True):
    """Wall seconds per simulated second of the N = 1000 reservoir with plastic readouts: Brian2 cpp_standalone
    (ours) vs the NumPy spnet loop of the same network (baseline); Brian2 runtime as an extra."""
    par = _paradigm(4.0 if quick else 20.0)
    sim_s = par.duration_ms / 1e3
    res = ReservoirParams(n_neurons=1000)
    simulate(par, device="cpp_standalone", reservoir=res, record_weights=False)       # build once
    sa = simulate(par, device="cpp_standalone", reservoir=res, record_weights=False)  # reuses the binary
    rt = simulate(par, device="runtime", target="cython", reservoir=res, record_weights=False)
    si, st, np_wall = simulate_numpy(par.duration_ms, paradigm=par, reservoir=res)
    syn_events = len(sa.spike_i) * 100 / sa.wall_time_s
    return {"name": "reservoir N=1000 (plasticity on), wall s per simulated s",
            "ours": sa.wall_time_s / sim_s, "baseline": np_wall / sim_s,
            "standalone_x_realtime": sim_s / sa.wall_time_s, "runtime_x_realtime": sim_s / rt.wall_time_s,
            "numpy_x_realtime": sim_s / np_wall, "rate_hz": _rate(sa),
            "neuron_updates_per_s": 1000 * sim_s / (0.5e-3) / sa.wall_time_s,
            "synaptic_events_per_s": syn_events}


def bench_reservoir_large(quick=True):
    """Wall seconds per simulated second at N = 10^4 (and 10^5 with --full): Brian2 cpp_standalone (ours) vs the
    NumPy spnet loop (baseline), with the peak memory of the run."""
    out = {}
    sizes = (10_000,) if quick else (10_000, 100_000)
    for n in sizes:
        par = _paradigm(1.6)
        sim_s = par.duration_ms / 1e3
        res = ReservoirParams(n_neurons=n)
        t0 = time.perf_counter()
        sa = simulate(par, device="cpp_standalone", reservoir=res, record_weights=False, record_readout=False)
        build_s = time.perf_counter() - t0
        # OpenMP (2 threads, the CI machine's cores) in its own build folder, so neither build replaces the other
        omp = simulate(par, device="cpp_standalone", reservoir=res, record_weights=False, record_readout=False,
                       threads=2, directory=default_build_directory("cpp_standalone", "reservoir_omp2"))
        _, _, np_wall = simulate_numpy(par.duration_ms, paradigm=par, reservoir=res)
        out[n] = dict(standalone_x_realtime=sim_s / sa.wall_time_s, numpy_x_realtime=sim_s / np_wall,
                      standalone_2_threads_x_realtime=sim_s / omp.wall_time_s,
                      build_and_run_s=build_s,
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    n = sizes[-1]
    return {"name": f"reservoir N={n} cpp_standalone vs NumPy, wall s per simulated s",
            "ours": 1 / out[n]["standalone_x_realtime"], "baseline": 1 / out[n]["numpy_x_realtime"],
            "sizes": out}
