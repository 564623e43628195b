"""RDM + geo-topological transform + geodesic RDM: ours vs rsatoolbox, in one run.

Full scale (issue 5): 1000 conditions × 5000 channels. Quick: 300 × 1000.
Ours: Gram-trick Euclidean RDM, GT(0.4, 0.6) with the rank step, p-shortest geodesic (sparse Dijkstra).
rsatoolbox: calc_rdm(euclidean), geotopological_transform(0.4, 0.6), geodesic_transform (networkx
Floyd–Warshall on the min-max-scaled RDM). The geodesic variants differ (the paper's p-shortest graph vs
rsatoolbox's near-complete graph); both are each library's way to get an RGDM from data.
"""
import importlib.util
import warnings
from pathlib import Path

import numpy as np

from _timing import timed


def bench_rdm_gt_geodesic(quick=True):
    """Euclidean RDM + geo-topological transform GT(0.4, 0.6) + geodesic RDM: ours (neurodata.rsa) vs rsatoolbox
    (baseline: calc_rdm, geotopological_transform, geodesic_transform), same patterns."""
    from neurodata.rsa import compute_rdm, geodesic, geotopological

    n_cond, n_chan = (300, 1000) if quick else (1000, 5000)
    patterns = np.random.default_rng(0).standard_normal((n_cond, n_chan))

    def ours():
        rdm = compute_rdm(patterns, "euclidean")
        with warnings.catch_warnings():  # i.i.d. Gaussian patterns give a disconnected 5 % graph (hubness)
            warnings.simplefilter("ignore")
            return rdm, geotopological(rdm, 0.4, 0.6), geodesic(rdm)

    def theirs():
        import rsatoolbox
        from rsatoolbox.rdm.transform import geodesic_transform, geotopological_transform

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = rsatoolbox.data.Dataset(patterns)
            rdm = rsatoolbox.rdm.calc_rdm(data, method="euclidean")
            before = rdm.get_vectors()[0].copy()
            gt = geotopological_transform(rdm, 0.4, 0.6)
            geo = geodesic_transform(rdm)
        return before, rdm, gt, geo

    (o_rdm, o_gt, o_geo), t_ours, m_ours = timed(ours)
    (b_rdm, b_rdm_after, b_gt, b_geo), t_base, m_base = timed(theirs)
    iu = np.triu_indices(n_cond, 1)
    # rsatoolbox's "euclidean" is the squared distance per channel; compare on the same scale
    rdm_err = float(np.max(np.abs(o_rdm[iu] ** 2 / n_chan - b_rdm) / b_rdm.max()))
    modified = bool(np.any(b_rdm_after.get_vectors()[0] != b_rdm))  # rsatoolbox 0.3.2 edits its input in place
    gt_diff = float(np.max(np.abs(o_gt[iu] - b_gt.get_vectors()[0])))
    return {"name": f"rsa RDM+GT+geodesic {n_cond}x{n_chan}", "ours": t_ours, "baseline": t_base,
            "baseline_name": "rsatoolbox", "peak_mib_ours": m_ours, "peak_mib_baseline": m_base,
            "rdm_max_rel_diff": rdm_err, "rsatoolbox_modified_its_input_rdm": modified, "gt_max_abs_diff_vs_rsatoolbox_0.3.2_bug": gt_diff}


def _grid_example():
    path = Path(__file__).resolve().parents[1] / "examples" / "rsa_grid.py"
    spec = importlib.util.spec_from_file_location("rsa_grid_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_grid_search(quick=True):
    """tRSA (l, u) grid search of leave-one-subject-out identification accuracy: ours (grid_identification,
    ranks computed once per RDM) vs a per-cell transcription of the authors' loop (baseline: GT of every RDM
    from scratch, scikit-learn NearestCentroid per held-out subject), on examples/rsa_grid.py's simulated
    regions. Quick: 10 subjects x 4 regions, 24 stimuli, step 0.1; full: 20 subjects, 40 stimuli, the
    authors' step 0.05. Also reports the largest difference between the two accuracy maps (0 expected)."""
    from scipy.stats import rankdata
    from sklearn.neighbors import NearestCentroid

    from neurodata.rsa import grid_identification

    example = _grid_example()
    config = example.SMALL if quick else example.FULL
    rdms, regions, subjects = example.simulate_regions(config["n_subjects"], config["n_stimuli"], rdm_noise=0.4,
                                                       seed=0)
    res_step = config["resolution"]

    def ours():
        return grid_identification(rdms, regions, subjects, resolution=res_step, verbose=False).accuracy

    def theirs():
        bounds = np.round(np.linspace(0, 1, int(round(1 / res_step)) + 1), 10)
        acc = np.full((bounds.size, bounds.size), np.nan)
        for i, lo in enumerate(bounds):
            for j in range(i, bounds.size):
                up = bounds[j]
                if lo + up <= 1e-2 or lo + up >= 2 - 1e-2:
                    continue
                x = []
                for r in rdms:
                    rk = rankdata(r)
                    rk = (rk - rk.min()) / (rk.max() - rk.min())
                    q_l, q_u = np.quantile(rk, lo), np.quantile(rk, up)
                    x.append(np.clip((rk - q_l) / (q_u - q_l), 0, 1) if q_u > q_l else (rk > q_l).astype(float))
                x = np.array(x)
                correct = 0
                for s in np.unique(subjects):
                    test = subjects == s
                    with warnings.catch_warnings():  # constant GT columns: "zero standard deviation" notes
                        warnings.simplefilter("ignore")
                        clf = NearestCentroid().fit(x[~test], regions[~test])
                    correct += int(np.sum(clf.predict(x[test]) == regions[test]))
                acc[i, j] = correct / len(x)
        return acc

    a_ours, t_ours, m_ours = timed(ours)
    a_base, t_base, m_base = timed(theirs)
    return {"name": f"rsa (l,u) grid {len(rdms)} RDMs x {rdms.shape[1]} pairs, step {res_step}", "ours": t_ours,
            "baseline": t_base, "baseline_name": "per-cell loop + sklearn NearestCentroid", "peak_mib_ours": m_ours,
            "peak_mib_baseline": m_base, "max_abs_accuracy_diff": float(np.nanmax(np.abs(a_ours - a_base)))}
