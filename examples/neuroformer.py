"""Neuroformer (Antoniades et al. 2023) on a circuit with known connectivity.

Simulate a hub network (a few Poisson hub neurons driving others through delayed couplings; the true directed
adjacency is known) → NWB → read the spikes back through the spine → split by contiguous time blocks →
pretrain → on the held-out blocks: log-likelihood per spike, generated vs real rates and pairwise
correlations, and connectivity read out of the current → past attention, beside a lagged cross-correlogram
and a Poisson GLM's coupling filters on the same spikes.

    python examples/neuroformer.py [--seed 0] [--duration 1200] [--n-epochs 1] [--out out/neuroformer]
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from neurodata.io import read_spikes
from neurodata.neuroformer import SpikeTokenizer, time_block_split
from neurodata.neuroformer.connectivity import (cross_correlogram_connectivity, edge_auroc,
                                                glm_coupling_connectivity)
from neurodata.neuroformer.estimator import Neuroformer
from neurosim.groundtruth.neuroformer import write_hub_network

#: the validation configuration (small enough for a CPU; the card lists it beside the paper's)
SMALL = dict(n_embd=64, n_head=4, n_state=1, n_past=1, n_history=2, n_self=1, dropout=0.1, lr=1e-3,
             batch_size=64, device="cpu", n_threads=1)


def window_counts(spikes, starts, window):
    """(windows × units) spike counts in [t0, t0 + window)."""
    out = np.zeros((len(starts), spikes.n_units))
    for j, t in enumerate(spikes.times):
        out[:, j] = np.searchsorted(t, starts + window) - np.searchsorted(t, starts)
    return out


def circuit_validation(out, *, seed=0, duration=1200.0, n_epochs=1, glm=True, n_generate=None, verbose=False,
                       **model):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tic = time.perf_counter()
    net = write_hub_network(out / f"hub_network_seed{seed}.nwb", duration=duration, seed=seed, overwrite=True)
    spikes = read_spikes(out / f"hub_network_seed{seed}.nwb")
    params = {**SMALL, **model, "epochs": n_epochs, "seed": seed, "verbose": verbose}
    tok = SpikeTokenizer(spikes.n_units, window=params.get("window", 0.05), past=params.get("past", 0.15))
    starts = tok.window_starts(spikes.start, spikes.end)
    train, test = time_block_split(starts, window=tok.window, past=tok.past, test_fraction=0.2, seed=seed)
    nf = Neuroformer(**params).fit(spikes, starts=starts[train])
    metrics = {"seed": seed, "duration_s": duration, "n_units": spikes.n_units, "n_spikes": spikes.n_spikes,
               "n_train_windows": int(len(train)), "n_test_windows": int(len(test)),
               "train_loss": [h["loss"] for h in nf.history_]}
    metrics.update({f"test_{k}": v for k, v in nf.score(spikes, starts=starts[test]).items()})
    sampled = starts[test][:n_generate]  # the first held-out windows, when generation is to be kept short
    gen = nf.generate(spikes, starts=sampled, seed=seed)
    real_c, gen_c = window_counts(spikes, sampled, tok.window), window_counts(gen, sampled, tok.window)
    metrics["n_generated_windows"] = int(len(sampled))
    metrics["rate_r"] = float(np.corrcoef(real_c.mean(0), gen_c.mean(0))[0, 1])
    iu = np.triu_indices(spikes.n_units, 1)
    metrics["pair_correlation_r"] = float(np.corrcoef(np.corrcoef(real_c.T)[iu], np.corrcoef(gen_c.T)[iu])[0, 1])
    attention = nf.attention(spikes, starts=starts[test])
    metrics["attention_auroc"] = edge_auroc(attention, net.adjacency)
    metrics["ccg_auroc"] = edge_auroc(cross_correlogram_connectivity(spikes), net.adjacency)
    if glm:
        metrics["glm_auroc"] = edge_auroc(glm_coupling_connectivity(spikes), net.adjacency)
    metrics["seconds"] = time.perf_counter() - tic
    return metrics, nf, attention, net


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=1200.0)
    parser.add_argument("--n-epochs", type=int, default=1)
    parser.add_argument("--no-glm", action="store_true", help="skip the (slow) GLM baseline")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="several seeds in one run")
    parser.add_argument("--n-generate-windows", type=int, default=None,
                        help="generate only the first N held-out windows (default all)")
    parser.add_argument("--out", default="out/neuroformer")
    args = parser.parse_args(argv)
    for i, seed in enumerate(args.seeds or [args.seed]):
        # the GLM baseline (minutes) on the first seed only when several are run
        metrics, *_ = circuit_validation(args.out, seed=seed, duration=args.duration, n_epochs=args.n_epochs,
                                         glm=not args.no_glm and i == 0, n_generate=args.n_generate_windows,
                                         verbose=True)
        print(json.dumps(metrics, indent=1), flush=True)
        (Path(args.out) / f"metrics_seed{seed}.json").write_text(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
