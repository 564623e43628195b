"""Posterior summaries of sampled partitions: co-clustering matrices and maxPEAR point estimates."""
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import squareform

# the public functions; also keeps help() from listing scipy's linear_sum_assignment (a builtin, so pydoc shows it)
__all__ = ["coclustering", "matching_accuracy", "maxpear", "pear"]


def coclustering(draws, max_draws=500):
    """Posterior similarity matrix P[i, j] = Pr(item i and j share a block) from (n_draws, n_items) labels."""
    draws = np.asarray(draws)
    if draws.shape[0] > max_draws:
        draws = draws[np.linspace(0, draws.shape[0] - 1, max_draws).astype(int)]
    n = draws.shape[1]
    P = np.zeros((n, n))
    for z in draws:
        _, inv = np.unique(z, return_inverse=True)
        onehot = np.zeros((n, inv.max() + 1))
        onehot[np.arange(n), inv] = 1.0
        P += onehot @ onehot.T
    return P / draws.shape[0]


def pear(labels, psm):
    """Posterior expected adjusted Rand index of ``labels`` given the similarity matrix (Fritsch & Ickstadt 2009)."""
    iu = np.triu_indices(psm.shape[0], 1)
    ind = (labels[:, None] == labels[None, :])[iu].astype(float)
    pi = psm[iu]
    n_pairs = iu[0].size
    sum_i, sum_p = ind.sum(), pi.sum()
    expected = sum_i * sum_p / n_pairs
    denom = 0.5 * (sum_i + sum_p) - expected
    return ((ind * pi).sum() - expected) / denom if denom > 0 else 1.0


def maxpear(psm, draws=None, max_clusters=None, max_candidates=200):
    """Point estimate maximising PEAR over hierarchical-clustering cuts of 1 − PSM (average and complete
    linkage, every number of blocks) and the sampled partitions themselves.

    PEAR plugs the PSM into the adjusted Rand index, which is 0 for the one-block labelling whatever the
    posterior says. With ``draws`` given, that labelling is scored by its exact posterior expected ARI instead:
    the fraction of draws that are one block too (ARI 1 between two one-block labellings, 0 otherwise), so a
    posterior that puts nearly all its mass on one cluster returns one cluster. Without draws it cannot win.
    """
    n = psm.shape[0]
    max_clusters = min(n, max_clusters or n)
    cands = []
    if n > 1:
        dist = squareform(1.0 - psm, checks=False)
        dist = np.clip(dist, 0.0, None)
        for method in ("average", "complete"):
            Z = linkage(dist, method=method)
            for k in range(1, max_clusters + 1):
                cands.append(fcluster(Z, k, criterion="maxclust") - 1)
    else:
        cands.append(np.zeros(1, dtype=int))
    if draws is not None:
        draws = np.asarray(draws)
        uniq = np.unique(draws, axis=0)
        if uniq.shape[0] > max_candidates:
            uniq = uniq[np.linspace(0, uniq.shape[0] - 1, max_candidates).astype(int)]
        cands.extend(list(uniq))
    scores = [pear(c, psm) for c in cands]
    if draws is not None and n > 1:
        one_block = np.all(draws == draws[:, :1], axis=1).mean()
        cands.append(np.zeros(n, dtype=int))
        scores.append(float(one_block))
    best = np.asarray(cands[int(np.argmax(scores))])
    _, best = np.unique(best, return_inverse=True)
    return best, float(np.max(scores))


def matching_accuracy(true, est):
    """Fraction of items on which ``est`` agrees with ``true`` after the best one-to-one relabelling."""
    true = np.unique(np.asarray(true), return_inverse=True)[1]
    est = np.unique(np.asarray(est), return_inverse=True)[1]
    M = np.zeros((true.max() + 1, est.max() + 1))
    np.add.at(M, (true, est), 1)
    r, c = linear_sum_assignment(-M)
    return M[r, c].sum() / true.size
