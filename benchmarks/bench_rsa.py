"""RDM + geo-topological transform + geodesic RDM: ours vs rsatoolbox, in one run.

Full scale (issue 5): 1000 conditions × 5000 channels. Quick: 300 × 1000.
Ours: Gram-trick Euclidean RDM, GT(0.4, 0.6) with the rank step, p-shortest geodesic (sparse Dijkstra).
rsatoolbox: calc_rdm(euclidean), geotopological_transform(0.4, 0.6), geodesic_transform (networkx
Floyd–Warshall on the min-max-scaled RDM). The geodesic variants differ (the paper's p-shortest graph vs
rsatoolbox's near-complete graph); both are each library's way to get an RGDM from data.
"""
import warnings

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
