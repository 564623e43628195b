"""Weighted stochastic block model with the number of blocks chosen by ICL (stage 3 of Dyballa et al. 2024).

The paper fits graph-tool's (nested) SBM with real-exponential edge weights. graph-tool is not pip-installable,
so we implement the closest generative model that is: the weighted SBM of Aicher, Jacobs & Clauset (2014,
J. Complex Networks 3:221) with a Bernoulli edge-existence part and an exponential edge-weight part,

    z_i ~ Cat(pi),   A_ij | z ~ Bernoulli(p[z_i, z_j]),   w_ij | A_ij = 1, z ~ Exponential(rate lam[z_i, z_j]),

fitted by variational EM (mean-field q(z_i) = tau_i; Daudin, Picard & Robin 2008, extended to the weights),
with several initialisations (spectral + random) and the number of blocks K chosen by the Integrated
Completed Likelihood (ICL; Daudin et al. 2008):

    ICL(K) = log p(A, w, z_hat | theta_hat) - (K - 1)/2 log N - (n_block_params / 2) log(N(N - 1)/2),

with n_block_params = 2 K(K + 1)/2 (an edge probability p and a weight rate lam per unordered block pair).
An edge exists where the weight exceeds ``edge_threshold`` (default 0: every positive weight is an edge).
"""
import numbers
import warnings

import numpy as np

from ..base import Estimator
from ..errors import ConvergenceWarning, InvalidInputError
from ..inputs import check_data
from ..utils import check_option, check_random_state, check_scalar

_EPS = 1e-10


def _softmax_rows(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def _m_step(tau, adj, w):
    """Block parameters maximising the expected complete log-likelihood (ordered pairs i != j)."""
    size = tau.sum(axis=0)
    pairs = np.outer(size, size) - tau.T @ tau
    edges = tau.T @ adj @ tau
    wsum = tau.T @ w @ tau
    p = np.clip(edges / np.maximum(pairs, _EPS), _EPS, 1 - _EPS)
    lam = np.where(edges > _EPS, edges / np.maximum(wsum, _EPS), 1.0)
    lam = np.clip(lam, _EPS, 1 / _EPS)
    pi = np.clip(size / size.sum(), _EPS, None)
    return pi / pi.sum(), p, lam


def _pair_terms(tau, adj, w, p, lam):
    """Per-node, per-block expected log-likelihood of the node's pairs given the other nodes' tau."""
    a_tau = adj @ tau
    w_tau = w @ tau
    non_tau = tau.sum(axis=0)[None, :] - tau - a_tau     # non-edges among j != i
    return a_tau @ (np.log(p) + np.log(lam)).T - w_tau @ lam.T + non_tau @ np.log1p(-p).T


def _elbo(tau, pi, adj, w, p, lam):
    ent = -np.sum(tau * np.log(np.clip(tau, _EPS, None)))
    return float(np.sum(tau * np.log(pi))
                 + 0.5 * np.sum(tau * _pair_terms(tau, adj, w, p, lam)) + ent)


def _complete_loglik(labels, n_blocks, adj, w):
    """log p(A, w | z, theta_hat(z)) over unordered pairs, at the hard labels' MLE."""
    tau = np.eye(n_blocks)[labels]
    _, p, lam = _m_step(tau, adj, w)
    size = tau.sum(axis=0)
    counts = np.log(np.clip(size / size.sum(), _EPS, None)) @ size
    return float(0.5 * np.sum(tau * _pair_terms(tau, adj, w, p, lam)) + counts)


def _spectral_basis(w):
    """Eigenvectors of the degree-normalised weight matrix, by decreasing |eigenvalue| (computed once per fit)."""
    deg = w.sum(axis=1)
    d = 1.0 / np.sqrt(np.maximum(deg, _EPS))
    vals, vecs = np.linalg.eigh(d[:, None] * w * d[None, :])
    return vecs[:, np.argsort(-np.abs(vals))]


def _kmeans(x, k, rng, n_init=4, n_iter=50):
    """Lloyd's k-means with k-means++ seeding (tiny problems: sklearn's thread-pool overhead dominates)."""
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        centres = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d2 = np.min([np.sum((x - c) ** 2, axis=1) for c in centres], axis=0)
            total = d2.sum()
            centres.append(x[rng.choice(len(x), p=d2 / total)] if total > 0 else x[rng.integers(len(x))])
        centres = np.array(centres)
        for _ in range(n_iter):
            labels = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
            new = np.array([x[labels == j].mean(0) if np.any(labels == j) else centres[j] for j in range(k)])
            if np.allclose(new, centres):
                break
            centres = new
        inertia = np.sum((x - centres[labels]) ** 2)
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return best


def _spectral_init(basis, n_blocks, rng):
    """Soft labels from k-means on the leading ``n_blocks`` eigenvectors."""
    emb = basis[:, :n_blocks].copy()
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), _EPS)
    labels = _kmeans(emb, n_blocks, rng)
    return np.clip(np.eye(n_blocks)[labels], 0.02, None) / (1 + 0.02 * (n_blocks - 1))


class WeightedSBM(Estimator):
    """Weighted stochastic block model (Bernoulli edges × exponential weights), variational EM, K by ICL.

    Parameters
    ----------
    n_blocks : int or "auto"
        Number of blocks, or "auto" to maximise ICL over ``1 .. max_blocks``.
    max_blocks : int
        Largest K tried when ``n_blocks="auto"`` (capped at the number of nodes).
    n_init : int
        Initialisations per K (one spectral, the rest random); the highest variational bound is kept.
    n_iter_max : int
        Maximum variational-EM iterations per initialisation.
    tol : float
        Stop when the largest change of any tau_ik is below this.
    edge_threshold : float
        Weights above this are edges; the rest are non-edges (weight ignored).
    seed : None, int or numpy.random.Generator

    Attributes
    ----------
    labels_ : ndarray (N,)
        Block of each node (blocks numbered by decreasing within-block mean weight).
    n_blocks_ : int
        The chosen K.
    responsibilities_ : ndarray (N, K)
        Posterior block probabilities.
    edge_prob_ : ndarray (K, K)
        Edge probabilities.
    weight_mean_ : ndarray (K, K)
        Mean weight of existing edges (1 / rate).
    block_weights_ : ndarray (K,)
        Block proportions.
    icl_ : float
        ICL of the chosen K.
    icl_path_ : dict
        K → ICL over the K tried.
    elbo_ : float
        Variational bound of the chosen fit.
    """

    def __init__(self, *, n_blocks="auto", max_blocks=10, n_init=5, n_iter_max=200, tol=1e-5,
                 edge_threshold=0.0, seed=None):
        self._keep(locals())

    def _validate(self, weights):
        name = type(self).__name__
        w = check_data(weights, method=f"{name}.fit", name="weights", ndim=2, axes=("nodes", "nodes"))
        if w.shape[0] != w.shape[1]:
            raise InvalidInputError(f"weights must be a square (N × N) matrix; got shape {w.shape}.")
        if w.shape[0] < 2:
            raise InvalidInputError(f"weights must have at least 2 nodes; got {w.shape[0]}.")
        if np.any(w < 0):
            raise InvalidInputError("weights must be non-negative (exponential edge weights).")
        if not np.allclose(w, w.T, rtol=1e-6, atol=1e-12 * max(w.max(), 1e-300)):
            raise InvalidInputError("weights must be symmetric (an undirected graph).")
        if isinstance(self.n_blocks, str):
            check_option(self.n_blocks, "n_blocks", ("auto",))
        if self.n_blocks != "auto":
            check_scalar(self.n_blocks, "n_blocks", name, kind=numbers.Integral, low=1, high=w.shape[0])
        check_scalar(self.max_blocks, "max_blocks", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_init, "n_init", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_iter_max, "n_iter_max", name, kind=numbers.Integral, low=1)
        check_scalar(self.tol, "tol", name, low=0.0)
        check_scalar(self.edge_threshold, "edge_threshold", name, low=0.0)
        np.fill_diagonal(w, 0.0)
        adj = (w > self.edge_threshold).astype(float)
        w = w * adj
        return w, adj

    def _fit_k(self, w, adj, k, rng, basis):
        n = w.shape[0]
        best = None
        for init in range(self.n_init):
            if k == 1:
                tau = np.ones((n, 1))
            elif init == 0:
                tau = _spectral_init(basis, k, rng)
            else:
                tau = rng.dirichlet(np.ones(k), size=n)
            converged = k == 1
            for _ in range(self.n_iter_max if k > 1 else 1):
                pi, p, lam = _m_step(tau, adj, w)
                new = _softmax_rows(np.log(pi)[None, :] + _pair_terms(tau, adj, w, p, lam))
                delta = np.max(np.abs(new - tau))
                tau = new
                if delta < self.tol:
                    converged = True
                    break
            pi, p, lam = _m_step(tau, adj, w)
            elbo = _elbo(tau, pi, adj, w, p, lam)
            if best is None or elbo > best[0]:
                best = (elbo, tau, converged)
        return best

    def fit(self, weights, y=None):
        """Fit to a symmetric non-negative weight matrix (N × N). Returns self."""
        w, adj = self._validate(weights)
        rng = check_random_state(self.seed)
        n = w.shape[0]
        n_pairs = n * (n - 1) / 2
        ks = [self.n_blocks] if self.n_blocks != "auto" else list(range(1, min(self.max_blocks, n) + 1))
        fits, icl = {}, {}
        basis = _spectral_basis(w) if max(ks) > 1 else None
        for k in ks:
            elbo, tau, converged = self._fit_k(w, adj, k, rng, basis)
            labels = np.argmax(tau, axis=1)
            used = np.unique(labels)  # empty blocks do not count as parameters
            labels = np.searchsorted(used, labels)
            k_eff = used.size
            penalty = 0.5 * (k_eff - 1) * np.log(n) + 0.5 * k_eff * (k_eff + 1) * np.log(n_pairs)
            icl[k] = _complete_loglik(labels, k_eff, adj, w) - penalty
            fits[k] = (elbo, tau[:, used] / tau[:, used].sum(axis=1, keepdims=True), labels, converged)
        best_k = max(icl, key=lambda k: (icl[k], -k))
        elbo, tau, labels, converged = fits[best_k]
        if not converged:
            warnings.warn(f"WeightedSBM variational EM stopped after n_iter_max={self.n_iter_max} iterations "
                          f"without reaching tol={self.tol}; increase n_iter_max.", ConvergenceWarning,
                          stacklevel=2)
        k_eff = tau.shape[1]
        hard = np.eye(k_eff)[labels]
        pi, p, lam = _m_step(hard, adj, w)
        mean_w = 1.0 / lam
        # Order blocks by how strongly they bind internally (expected within-block weight p * mean).
        order = np.argsort(-(np.diag(p) * np.diag(mean_w)), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(k_eff)
        self.labels_ = rank[labels]
        self.n_blocks_ = int(k_eff)
        self.responsibilities_ = tau[:, order]
        self.edge_prob_ = p[np.ix_(order, order)]
        self.weight_mean_ = mean_w[np.ix_(order, order)]
        self.block_weights_ = pi[order]
        self.icl_ = float(icl[best_k])
        self.icl_path_ = {int(k): float(v) for k, v in icl.items()}
        self.elbo_ = float(elbo)
        return self

    def fit_predict(self, weights, y=None):
        return self.fit(weights).labels_
