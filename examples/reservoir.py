"""Izhikevich reservoir with three-factor what/when readouts (Yamada & Chao 2025): simulate on C++ standalone,
write NWB, read the trial table back, compare peaks with the paradigm, and plot readouts around the switches.

    python examples/reservoir.py                                  # the card's run: 320 trials, 1000 neurons
    python examples/reservoir.py --n-trials 16 --n-neurons 500    # a quick look (about a minute, first compile)
"""
import argparse
from pathlib import Path

import numpy as np

from neurodata.io import read_intervals, read_spikes
from neurosim.reservoir.analysis import peak_table
from neurosim.reservoir.experiment import run_experiment
from neurosim.reservoir.figures import plot_run
from neurosim.reservoir.nwb import result_to_nwb


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=320, help="trials (default 320, the card's run)")
    parser.add_argument("--n-neurons", type=int, default=1000, help="reservoir neurons (default 1000)")
    parser.add_argument("--out", default="out", help="output folder (default out/)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    result = run_experiment(args.n_trials, n_neurons=args.n_neurons, device="cpp_standalone", seed=0)
    result_to_nwb(result, out / "reservoir.nwb")
    spikes = read_spikes(out / "reservoir.nwb")
    trials = read_intervals(out / "reservoir.nwb")["trials"]
    print(f"{len(spikes.times)} units, {len(trials.start)} trials")
    peaks = peak_table(result)
    test = peaks[~peaks.learning]
    if len(test):
        print("timing error |peak - latency| (ms), test trials:",
              np.round(np.abs(test.peak_ms - test.latency_ms).median(), 1))
        print(test.groupby("probability").peak_amplitude.mean())
    plot_run(result, out / "reservoir_switch.png")


if __name__ == "__main__":
    main()
