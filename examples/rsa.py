"""RSA and topological RSA, end to end.

1. Real MEG (MNE sample, 4 conditions): time-resolved RDMs, compared with a model RDM over time.
2. Simulated "subjects" viewing four shapes (neurosim ground truth): identification of the shape ("region")
   from the RDM vs from the topology-sensitive GT(0.4, 0.6), with and without monotone warps, bootstrapped.
Results go to out/rsa_example.nwb, the figure to out/rsa_example.png.

    python examples/rsa.py [path/to/shared/testdata]
"""
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import neurodata.rsa as rsa
from neurodata.io import write_results
from neurosim.groundtruth import representations as gt

testdata = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "testdata")
out = Path("out")
out.mkdir(exist_ok=True)

# 1. real MEG: condition × sensor × time responses → one RDM per time point → similarity with a model
meg_file = testdata / "meg" / "sample_evoked-ave.fif.gz"
resp = rsa.responses_from_mne(meg_file)                      # conditions sorted by name
rdms = rsa.smooth_rdms(rsa.time_resolved_rdms(resp.means), resp.times, 0.025)
model = np.array([[("Auditory" in c), ("visual" in c)] for c in resp.conditions], float)  # modality only
timecourse = rsa.compare_rdms(rdms, rsa.compute_rdm(model)[np.triu_indices(4, 1)], "pearson")

# 2. topological RSA on ground truth: identification of the shape from each statistic
results = {}
for warp in (False, True):
    rdm_vecs, regions, subjects = gt.subject_rdms(n_subjects=10, n_points=40, noise=0.15, warp=warp, seed=0)
    gtm = np.array([rsa.geotopological(r, 0.4, 0.6) for r in rdm_vecs])
    for name, stat in (("RDM", rdm_vecs), ("GT(0.4,0.6)", gtm)):
        res = rsa.bootstrap_identification(stat, regions, subjects, n_boot=100, seed=1, verbose=False)
        results[(name, warp)] = res
        print(f"{name:12s} warps={warp!s:5s} accuracy {res.accuracy:.2f}  95% CI {res.ci[0]:.2f}–{res.ci[1]:.2f}")

write_results(out / "rsa_example.nwb", analysis="rsa", sources=[meg_file],
              parameters={"model": "modality", "smooth_s": 0.025, "gt": [0.4, 0.6]},
              arrays={"meg_rdms": rdms, "meg_times": resp.times, "meg_model_similarity": timecourse,
                      "identification": np.array([[results[(n, w)].accuracy for w in (False, True)]
                                                  for n in ("RDM", "GT(0.4,0.6)")])})

fig = Figure(figsize=(10, 3.5), layout="constrained")
ax = fig.add_subplot(1, 2, 1)
ax.plot(resp.times, timecourse, "k")
ax.axvline(0, color="0.6")
ax.set(xlabel="time (s)", ylabel="model vs MEG RDM (Pearson)", title="auditory vs visual model")
ax = fig.add_subplot(1, 2, 2)
for i, name in enumerate(("RDM", "GT(0.4,0.6)")):
    for j, warp in enumerate((False, True)):
        res = results[(name, warp)]
        ax.bar(i * 3 + j, res.accuracy, yerr=[[res.accuracy - res.ci[0]], [res.ci[1] - res.accuracy]],
               color="C1" if warp else "C0", label=("with warps" if warp else "no warps") if i == 0 else None)
ax.set_xticks([0.5, 3.5], ["RDM", "GT(0.4, 0.6)"])
ax.set(ylabel="identification accuracy", ylim=(0, 1.05), title="shape identification (LOSO)")
ax.legend()
fig.savefig(out / "rsa_example.png", dpi=110)
print(f"wrote {out / 'rsa_example.nwb'} and {out / 'rsa_example.png'}")
