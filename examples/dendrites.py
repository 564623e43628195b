"""Active dendrites on sparse distributed representations (Ahmad & Hawkins 2016) in five steps.

theory → Monte Carlo → Brian2 neurons → NWB → figure (written to out/dendrites/).
Run: python examples/dendrites.py   (about half a minute on a laptop)
"""
from pathlib import Path

import neurosim.dendrites as nd
from neurodata.io import read_spikes
from neurosim.dendrites.experiment import rates_table, run_experiment, write_run
from neurosim.dendrites.figures import theory_figure
from neurosim.dendrites.montecarlo import mc_false_positive

out = Path("out/dendrites")
out.mkdir(parents=True, exist_ok=True)

# 1. exact theory: a segment of 24 synapses, threshold 12, 300 of 10 000 cells active
print("P_FP(n=10000, a=300, s=24, θ=12) =", nd.p_false_positive(10000, 300, 24, 12))   # 8.3758e-13
print("P_FN(a=128, s=30, θ=12, v=64)   =", nd.p_false_negative(128, 30, 12, 64))       # 50 % noise
print("union of 20 patterns, θ=18      =", nd.p_union_false_positive(1024, 20, 18, 20))
print("smallest θ with median P_FP < 1e-7 over the paper's grid:", nd.optimal_threshold(1e-7))  # 8

# 2. Monte Carlo check where the rate is measurable
est = mc_false_positive(10000, 300, 24, 4, n_segments=3000, n_patterns=3000, seed=0)
print(f"Monte Carlo {est.p:.5f} ± {est.se:.5f} vs theory {nd.p_false_positive(10000, 300, 24, 4):.5f} "
      f"({est.comparisons_per_second:.2e} comparisons/s)")

# 3. Brian2 neurons: 40 neurons x 10 segments on random SDRs, then noisy learned SDRs
model, run, summary = run_experiment(n_inputs=1000, n_active=40, n_neurons=40, n_segments=10, n_synapses=20,
                                     theta=4, n_random=100, n_learned=50, noise=10, seed=0)
print(rates_table(summary).to_string(index=False))

# 4. NWB: input spikes, NMDA plateaus and somatic spikes as Units; soma potential; windows; synapses; rates
write_run(out / "dendrites_run.nwb", model, run, summary)
spikes = read_spikes(out / "dendrites_run.nwb")
print(spikes, spikes.metadata["population"].value_counts().to_dict())

# 5. the paper's curves plus the simulated rates
theory_figure(out / "dendrites.png", summary=summary)
print("figure →", out / "dendrites.png")
