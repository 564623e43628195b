"""README demo for RSA / topological RSA (≤ 60 s): geodesic RDMs unroll a spiral; a model-vs-MEG time course.

    from demo_steps.rsa import demo
    demo("out/rsa_demo", testdata="../shared/testdata")   # with examples/ on sys.path
"""
from pathlib import Path

import numpy as np

__all__ = ["demo"]


def _spiral(n=120, turns=2.0):
    # Archimedean spiral r = θ, resampled at (nearly) equal arc length
    theta = np.linspace(np.pi, np.pi + 2 * np.pi * turns, 20001)
    pts = np.column_stack([theta * np.cos(theta), theta * np.sin(theta)])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    arc = np.linspace(0.0, s[-1], n)
    th = np.interp(arc, s, theta)
    return np.column_stack([th * np.cos(th), th * np.sin(th)]), arc


def demo(out_dir, testdata=None, quick=True):
    """Run the demo, write ``rsa_demo.nwb`` and ``rsa_demo.png`` under ``out_dir``; return a summary dict."""
    from matplotlib.figure import Figure
    from scipy.stats import spearmanr

    from neurodata.io import write_results
    from neurodata.utils import save_figure
    from neurodata.rsa.rdm import compare_rdms, compute_rdm, smooth_rdms, time_resolved_rdms
    from neurodata.rsa.responses import responses_from_mne
    from neurodata.rsa.topology import geodesic, geotopological

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pts, arc = _spiral(120)
    iu = np.triu_indices(len(arc), k=1)
    rdm = compute_rdm(pts)
    rgtm = geotopological(rdm, 0.4, 0.6)
    rgdm = geodesic(rdm, weights="dissimilarity")  # lengths along the curve (Isomap), not ranks
    true = np.abs(arc[:, None] - arc[None, :])[iu]
    summary = {"spearman_euclidean_vs_arc": float(spearmanr(rdm[iu], true)[0]),
               "spearman_geodesic_vs_arc": float(spearmanr(rgdm[iu], true)[0])}
    arrays = {"spiral_points": pts, "spiral_rdm": rdm, "spiral_rgtm": rgtm, "spiral_rgdm": rgdm}
    sources = []
    meg = None
    if testdata is not None:
        path = Path(testdata) / "meg" / "sample_evoked-ave.fif.gz"
        if path.exists():
            resp = responses_from_mne(path)
            rdms = smooth_rdms(time_resolved_rdms(resp.means), resp.times, 0.025)
            # model: modality (auditory/visual) and side (left/right), rows in the sorted condition order
            feats = np.array([[("Auditory" in c), ("visual" in c), c.startswith("Left"), c.startswith("Right")]
                              for c in resp.conditions], dtype=float)
            sim = compare_rdms(rdms, compute_rdm(feats)[np.triu_indices(4, 1)], "pearson")
            meg = (resp.times, sim, rdms)
            arrays.update({"meg_rdms": rdms, "meg_times": resp.times, "meg_model_similarity": sim})
            sources.append(path)
            t = resp.times
            summary["meg_model_similarity_baseline"] = float(sim[t < 0].mean())
            summary["meg_model_similarity_50_200ms"] = float(sim[(t > 0.05) & (t < 0.2)].mean())
    nwb_path = write_results(out_dir / "rsa_demo.nwb", analysis="rsa", sources=sources,
                             parameters={"gt": [0.4, 0.6], "geodesic": "p_shortest p=0.05", **summary},
                             arrays=arrays, description="neurosuite RSA / topological RSA demo")
    n_panels = 4 if meg is not None else 3
    fig = Figure(figsize=(3.4 * n_panels, 3.3), layout="constrained")
    for i, (mat, title) in enumerate([(rdm, "RDM (Euclidean)"), (rgtm, "RGTM GT(0.4, 0.6)"),
                                      (rgdm, "RGDM (geodesic)")]):
        ax = fig.add_subplot(1, n_panels, i + 1)
        ax.imshow(mat, cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"2-turn spiral: Spearman with arc length — Euclidean {summary['spearman_euclidean_vs_arc']:.2f}, "
                 f"geodesic {summary['spearman_geodesic_vs_arc']:.2f}", fontsize=9)
    if meg is not None:
        ax = fig.add_subplot(1, n_panels, 4)
        ax.plot(meg[0], meg[1], color="k")
        ax.axvline(0, color="0.6", lw=0.8)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("model vs MEG RDM (Pearson)")
        ax.set_title("MNE sample MEG vs modality+side model", fontsize=9)
    png = save_figure(fig, out_dir / "rsa_demo.png")
    return {"nwb": Path(nwb_path) if nwb_path else out_dir / "rsa_demo.nwb", "png": png, **summary}
