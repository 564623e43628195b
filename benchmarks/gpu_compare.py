"""The suite's Brian2 models on cuda_standalone against cpp_standalone, and torch on CUDA against CPU, in one run.

Called by benchmarks/gpu_check.sh on a machine with a GPU; prints one line per check and writes JSON.
Each Brian2 model runs the same deterministic configuration on both devices and reports spike counts (or the
evidence) side by side with wall times; a row's ``match`` is the stated criterion:

  lif        simulate_lif_network: Brian2's random numbers differ between cuRAND and C++, so only the
             population rates are compared (within 10 %)
  reservoir  simulate(noise=False, plasticity=False): deterministic; spike counts per neuron, equal for
             >= 95 % of neurons (float64 on both; nvcc -use_fast_math contracts to FMA)
  motion     run_brian2_twin: summed weights, float64; evidence within 1e-9
  torch      the motion model's delay_convolution, float64, CUDA against CPU within 1e-9

The dendrite neurons (neurosim.dendrites) run on Brian2's runtime device only (DendriteNeurons.present has
no device option), so they have no cuda_standalone row.
"""
import argparse
import json
import sys
import time

import numpy as np


def _timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def lif(device):
    from neurosim.circuits import simulate_lif_network
    pops, _, _ = simulate_lif_network(n_neurons=1000, duration=1.0, seed=0, device=device)
    return {name: t.n_spikes / (t.n_units * (t.end - t.start)) for name, t in pops.items()}


def reservoir(device):
    from neurosim.reservoir.network import simulate
    from neurosim.reservoir.params import ReservoirParams
    from neurosim.reservoir.task import Paradigm
    par = Paradigm([150, 250], [1.0, 1.0], 2, seed=1, trial_ms=300, iti_ms=100)
    res = simulate(par, noise=False, plasticity=False, seed=0, device=device,
                   reservoir=ReservoirParams(n_neurons=1000))
    return np.bincount(res.spike_i, minlength=res.n_neurons)


def motion(device):
    from neurosim.motion.twin import run_brian2_twin
    rng = np.random.default_rng(1)
    events = rng.random((2, 40, 12, 12)) < 0.05
    kernel = rng.standard_normal((4, 2, 5, 3, 3)) * (rng.random((4, 2, 5, 3, 3)) < 0.5)
    return run_brian2_twin(events, kernel, np.zeros(4), device=device).evidence


def compare(name, cpu, gpu):
    if name == "lif":
        ok = all(abs(gpu[k] - cpu[k]) <= 0.1 * max(cpu[k], 1e-9) for k in cpu)
        return ok, {k: (round(cpu[k], 3), round(gpu[k], 3)) for k in cpu}
    if name == "reservoir":
        same = float(np.mean(cpu == gpu))
        return same >= 0.95, {"spikes": (int(cpu.sum()), int(gpu.sum())), "neurons_equal": round(same, 4)}
    diff = float(np.max(np.abs(cpu - gpu)))
    return diff <= 1e-9, {"max_abs_diff": diff}


def torch_check():
    import torch
    from neurosim.motion.model import delay_convolution
    rng = np.random.default_rng(2)
    events = torch.from_numpy((rng.random((4, 2, 60, 16, 16)) < 0.05).astype(np.float64))
    kernel = torch.from_numpy(rng.standard_normal((4, 2, 8, 5, 5)))
    bias = torch.zeros(4, dtype=torch.float64)
    cpu, t_cpu = _timed(lambda: delay_convolution(events, kernel, bias))
    dev = torch.device("cuda")
    delay_convolution(events.to(dev), kernel.to(dev), bias.to(dev))  # warm-up (kernels, cuDNN choice)
    torch.cuda.synchronize()
    gpu, t_gpu = _timed(lambda: (delay_convolution(events.to(dev), kernel.to(dev), bias.to(dev)),
                                 torch.cuda.synchronize())[0])
    diff = float((cpu - gpu.cpu()).abs().max())
    return {"name": "torch_delay_convolution", "match": diff <= 1e-9, "cpu_s": t_cpu, "gpu_s": t_gpu,
            "details": {"max_abs_diff": diff, "device": torch.cuda.get_device_name(0)}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lif,reservoir,motion", help="comma-separated Brian2 models")
    parser.add_argument("--torch", action="store_true", help="also compare torch on CUDA against CPU")
    parser.add_argument("--json", default=None, help="write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows, failed = [], False
    for name in filter(None, args.models.split(",")):
        fn = {"lif": lif, "reservoir": reservoir, "motion": motion}[name]
        try:
            cpu, t_cpu = _timed(lambda: fn("cpp_standalone"))
            gpu, t_gpu = _timed(lambda: fn("cuda_standalone"))
            ok, details = compare(name, cpu, gpu)
            row = {"name": name, "match": ok, "cpp_s": t_cpu, "cuda_s": t_gpu, "details": details}
        except Exception as exc:  # report and go on: one broken model must not hide the others
            row = {"name": name, "match": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        rows.append(row)
        failed |= not row["match"]
        print(json.dumps(row), flush=True)
    if args.torch:
        try:
            row = torch_check()
        except Exception as exc:
            row = {"name": "torch_delay_convolution", "match": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        rows.append(row)
        failed |= not row["match"]
        print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
