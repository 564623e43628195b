"""Classical connectivity baselines on the same spikes as the Neuroformer's attention readout, and AUROCs.

- :func:`cross_correlogram_connectivity`: a lagged cross-correlogram, ``C[i, j]`` = spikes of j in the
  ``max_lag`` after a spike of i, over the count expected from independent trains, minus one.
- :func:`glm_coupling_connectivity`: a Poisson GLM per neuron on the binned counts of every neuron's recent
  past (``n_lags`` bins), ``C[i, j]`` = the sum of i's coupling filter in j's model.
- :func:`edge_auroc`: how well a score matrix ranks true edges above non-edges, and direction (i→j above
  j→i for every true edge i→j whose reverse is no edge).
"""
import numpy as np

from ..errors import InvalidInputError
from ..utils import check_scalar

__all__ = ["cross_correlogram_connectivity", "edge_auroc", "glm_coupling_connectivity"]


def _binned(spikes, bin_size):
    return np.asarray(spikes.count(bin_size).data, float)


def cross_correlogram_connectivity(spikes, *, max_lag=0.03, bin_size=0.001):
    """(n, n) lagged cross-correlogram excess ``C[i, j]`` (i leads j by 1..max_lag); diagonal 0."""
    check_scalar(max_lag, "max_lag", "cross_correlogram_connectivity", low=0.0, low_inclusive=False)
    x = _binned(spikes, bin_size)
    n_lags = max(1, int(round(max_lag / bin_size)))
    t = x.shape[0]
    after = np.zeros_like(x)  # after[t, j]: spikes of j in bins t+1 .. t+n_lags
    csum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, 0)])
    idx = np.arange(t)
    after = csum[np.minimum(idx + n_lags + 1, t)] - csum[np.minimum(idx + 1, t)]
    observed = x.T @ after
    expected = np.outer(x.sum(0), x.sum(0)) * n_lags / t
    c = observed / np.maximum(expected, 1e-12) - 1.0
    np.fill_diagonal(c, 0.0)
    return c


def glm_coupling_connectivity(spikes, *, bin_size=0.01, n_lags=3, alpha=1e-4):
    """(n, n) summed coupling filters of a Poisson GLM per neuron (scikit-learn's PoissonRegressor)."""
    from sklearn.linear_model import PoissonRegressor

    x = _binned(spikes, bin_size)
    t, n = x.shape
    if t <= n_lags + 1:
        raise InvalidInputError(f"glm_coupling_connectivity needs more than {n_lags + 1} bins; got {t}.")
    design = np.hstack([x[n_lags - k - 1:t - k - 1] for k in range(n_lags)])  # lag k+1 of every neuron
    scale = design.std(0)
    scale[scale == 0] = 1.0
    design = design / scale
    c = np.zeros((n, n))
    for j in range(n):
        glm = PoissonRegressor(alpha=alpha, max_iter=300).fit(design, x[n_lags:, j])
        c[:, j] = (glm.coef_ / scale).reshape(n_lags, n).sum(0)
    np.fill_diagonal(c, 0.0)
    return c


def edge_auroc(score, adjacency):
    """``{"edge": AUROC true edges vs non-edges (off-diagonal), "direction": AUROC of score[i, j] against
    score[j, i] over true edges i→j without a reverse edge}``."""
    from sklearn.metrics import roc_auc_score

    score, adj = np.asarray(score, float), np.asarray(adjacency, bool)
    if score.shape != adj.shape or score.ndim != 2 or score.shape[0] != score.shape[1]:
        raise InvalidInputError(f"edge_auroc needs square score and adjacency of one shape; got {score.shape} "
                                f"and {adj.shape}.")
    off = ~np.eye(len(adj), dtype=bool)
    edge = roc_auc_score(adj[off], score[off])
    i, j = np.nonzero(adj & ~adj.T)
    fwd, back = score[i, j], score[j, i]
    direction = roc_auc_score(np.r_[np.ones(len(fwd)), np.zeros(len(back))], np.r_[fwd, back])
    return {"edge": float(edge), "direction": float(direction)}
