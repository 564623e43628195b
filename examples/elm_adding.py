"""ELM neuron on a long-horizon task: add the indices of two spike patterns seen 0.2-0.9 s apart in noise.

Trains the same ELM (d_m = 100) with a long memory (τ_max = 500 ms) and a short one (20 ms) on the adding
task of ``neurosim.elm.adding`` and writes their test accuracies to NWB and a figure (one trial's spikes with
its two patterns marked, and the two accuracies). The long memory should win by far; ``--quick`` is a
smoke run (a few hundred trials, two epochs: both near chance), the default the tests' small configuration.

    python examples/elm_adding.py --out-dir out/elm_adding
"""
import argparse
from pathlib import Path

import numpy as np

from neurodata.utils import save_figure
from neurosim.elm.adding import SMALL_CONFIGURATION, make_adding_task, run_adding_task, write_adding_results


def plot(task, accuracies, path):
    import matplotlib.pyplot as plt

    fig, (ax, bars) = plt.subplots(1, 2, figsize=(10, 3.5), gridspec_kw={"width_ratios": [3, 1]})
    bins, channels = np.nonzero(task.spikes[0])
    ax.scatter(bins * task.dt, channels, s=0.3, c="k")
    for onset, index in zip(task.onsets[0], (task.first[0], task.second[0])):
        ax.axvspan(onset, onset + 0.1, color="tab:orange", alpha=0.3)
        ax.text(onset + 0.05, 710, f"pattern {index}", ha="center", va="bottom")
    ax.set(xlabel="time (s)", ylabel="channel", title=f"one trial: label {task.labels[0]}", ylim=(0, 760))
    names = [f"{1e3 * t:g} ms" for t in accuracies]
    bars.bar(names, list(accuracies.values()), color=["tab:blue", "tab:gray"])
    bars.axhline(0.1, color="k", ls=":", lw=1)
    bars.set(ylim=(0, 1), xlabel="τ_max", ylabel="test accuracy", title="ELM, d_m = 100")
    fig.tight_layout()
    save_figure(fig, path, overwrite=True)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default="out/elm_adding")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smoke run (300 trials, 2 epochs), e.g. the tests")
    args = parser.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    size = dict(n_train=300, n_test=100, n_epochs=2) if args.quick else SMALL_CONFIGURATION
    results = []
    for tau in (0.5, 0.02):
        result = run_adding_task(tau_m_max=tau, **size, seed=args.seed, device="cpu", n_threads=1)
        results.append(result)
        print(f"tau_max {1e3 * tau:4g} ms: test accuracy {result['test_accuracy']:.3f} "
              f"({result['n_parameters']} parameters, {size['n_train']} training trials)")
    write_adding_results(out / "elm_adding.nwb", results, overwrite=True)
    accuracies = {r["tau_m_max"]: r["test_accuracy"] for r in results}
    plot(make_adding_task(1, seed=args.seed + 1), accuracies, out / "elm_adding.png")


if __name__ == "__main__":
    main()
