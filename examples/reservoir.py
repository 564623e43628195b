"""Izhikevich reservoir with three-factor what/when readouts (Yamada & Chao 2025): simulate on C++ standalone,
write NWB, read the trial table back, compare peaks with the paradigm, and plot readouts around the switches."""
import numpy as np

from neurodata.io import read_intervals, read_spikes
from neurosim.reservoir.analysis import peak_table
from neurosim.reservoir.figures import plot_run
from neurosim.reservoir.experiment import run_experiment
from neurosim.reservoir.nwb import result_to_nwb

result = run_experiment(320, device="cpp_standalone", seed=0)
result_to_nwb(result, "out/reservoir.nwb")
spikes = read_spikes("out/reservoir.nwb")
trials = read_intervals("out/reservoir.nwb")["trials"]
print(f"{len(spikes.times)} units, {len(trials.start)} trials")
peaks = peak_table(result)
test = peaks[~peaks.learning]
print("timing error |peak - latency| (ms), test trials:", np.round(np.abs(test.peak_ms - test.latency_ms).median(), 1))
print(test.groupby("probability").peak_amplitude.mean())
plot_run(result, "out/reservoir_switch.png")
