"""Dynamic functional connectome (Dyballa et al. 2024) on simulated calcium imaging of several animals.

simulate (neurosim) → NWB per animal → read back → affinities → NTF → weighted-SBM communities → NWB + figure.
Run:  python examples/connectome.py        (writes into out/connectome/)
"""
from pathlib import Path

import numpy as np

from neurodata.connectome import DynamicConnectome, read_connectome
from neurodata.io import read_traces
from neurosim.groundtruth.connectome import (
    simulate_dynamic_communities,
    write_calcium_nwb,
)

out = Path("out/connectome")
out.mkdir(parents=True, exist_ok=True)

# 1. Four animals, 30 neurons; three motifs switch on in separate epochs, each shown by two animals.
sim = simulate_dynamic_communities(n_neurons=30, n_animals=4, duration=300.0, rate=10.0, seed=1)

# 2. Each animal's traces to its own NWB file, as if recorded.
paths = []
for a, traces in enumerate(sim.traces):
    path = out / f"animal{a}.nwb"
    write_calcium_nwb(path, traces, parameters={"generator": "simulate_dynamic_communities", "seed": 1,
                                                "animal": a},
                      description="simulated calcium with planted time-varying communities")
    paths.append(path)

# 3. Read them back and fit (ROIs are matched across animals by label).
recordings = [read_traces(p) for p in paths]
model = DynamicConnectome(rank="auto", seed=0, verbose=True).fit(recordings, animal_names=[p.stem for p in paths])
result = model.result_
print(result)
for r, s in sorted(result.rank_scores.items()):
    print(f"  rank {r}: relative error {s['error']:.3f}, stability {s['stability']:.2f}")

# 4. Compare with what was planted.
step = round(result.times[1] * sim.rate)
for m in range(sim.members.shape[0]):
    corr = [np.corrcoef(result.temporal[:, k], sim.epochs[m, ::step])[0, 1] for k in range(result.rank)]
    k = int(np.argmax(corr))
    print(f"motif {m}: component {k} (temporal r = {corr[k]:.2f}); community {result.community(k)}; "
          f"planted {[result.neuron_labels[i] for i in np.flatnonzero(sim.members[m])]}")

# 5. Save results and the figure.
result.to_nwb(out / "connectome_results.nwb", sources=paths)
result.plot(out / "connectome.png")
print("reloaded:", read_connectome(out / "connectome_results.nwb"))
