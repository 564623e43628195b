"""Brain–model alignment on ground truth: an 8-layer random network (the "model") and 8 brain "regions",
each a noisy readout of one layer, plus MEG-like sensors where deeper layers appear later.

Encoding profile (layers × regions) → spatial score; encoding time courses → temporal score; layer-by-layer
CKA. With PyTorch installed the same is done for activations recorded from a torch module.
Results go to out/alignment_example.nwb, the figure to out/alignment_example.png.

    python examples/alignment.py
"""
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import neurodata.alignment as al
from neurodata.io import write_results
from neurosim.groundtruth import representations as gt

out = Path("out")
out.mkdir(exist_ok=True)

layers = gt.random_network(n_stimuli=400, width=40, n_layers=8, seed=0)      # model activations
regions = gt.readout_regions(layers, n_channels=12, noise=0.5, seed=1)       # "brain" (hierarchy order)
profile, layer_names, region_names = al.layer_profile(layers, regions, verbose=False)
spatial = al.spatial_score(profile)

meg = gt.meg_like(layers, n_sensors=8, n_times=30, seed=2)                   # stimuli × sensors × times
time_courses = al.temporal_profile(layers, meg, verbose=False)
temporal = al.temporal_score(time_courses)

cka = np.array([[al.cka(a, b, debiased=True) for b in layers] for a in layers])
print(f"best layer per region {al.best_layers(profile)}; spatial score {spatial:.3f}; temporal score {temporal:.3f}")

try:  # the same pipeline works on activations recorded from a PyTorch model
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh())
    stimuli = np.random.default_rng(0).standard_normal((400, 32)).astype(np.float32)
    acts = al.record_activations(net, stimuli, ["1", "3"])
    print("torch layers:", {k: v.shape for k, v in acts.items()},
          "CKA(layer 1, layer 3) =", round(al.cka(acts["1"], acts["3"]), 3))
except ImportError:
    pass

write_results(out / "alignment_example.nwb", analysis="alignment",
              parameters={"spatial_score": spatial, "temporal_score": temporal, "layers": layer_names,
                          "regions": region_names},
              arrays={"profile": profile, "time_courses": time_courses, "cka_debiased": cka})

fig = Figure(figsize=(12, 3.6), layout="constrained")
ax = fig.add_subplot(1, 3, 1)
im = ax.imshow(profile, origin="lower", cmap="magma")
ax.plot(range(8), al.best_layers(profile), "o", color="cyan")
ax.set(xlabel="region", ylabel="layer", title=f"encoding r (spatial score {spatial:.2f})")
fig.colorbar(im, ax=ax)
ax = fig.add_subplot(1, 3, 2)
for i, tc in enumerate(time_courses):
    ax.plot(tc, color=f"C{i}")
    ax.plot(np.argmax(tc), tc.max(), "v", color=f"C{i}")
ax.set(xlabel="latency (samples)", ylabel="encoding r", title=f"MEG-like (temporal score {temporal:.2f})")
ax = fig.add_subplot(1, 3, 3)
im = ax.imshow(cka, origin="lower", vmin=0, vmax=1)
ax.set(xlabel="layer", ylabel="layer", title="debiased linear CKA")
fig.colorbar(im, ax=ax)
fig.savefig(out / "alignment_example.png", dpi=110)
print(f"wrote {out / 'alignment_example.nwb'} and {out / 'alignment_example.png'}")
