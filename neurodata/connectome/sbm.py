"""Weighted stochastic block model fitted by minimum description length (stage 3 of Dyballa et al. 2024).

The paper fits graph-tool's nested SBM with real-exponential edge weights, with or without degree correction,
whichever describes the graph in fewer nats (``minimize_nested_blockmodel_dl``). graph-tool is not
pip-installable, so this module does the same with its own code: the description length of
:mod:`neurodata.connectome.dl` (microcanonical SBM, Karrer–Newman degree correction with Peixoto's degree
hyperprior, exponential weights per block pair with the rate integrated out, flat or nested edge-count prior)
minimised by a merge-and-sweep heuristic:

1. start from ``2 × max_blocks`` blocks (k-means on the leading eigenvectors of the degree-normalised weight
   matrix, rows normalised so hubs and peripheral nodes of one community land together);
2. sweep: move each node (random order) to the block that lowers the description length most, until no move
   helps (or ``n_iter_max`` sweeps);
3. merge the pair of blocks whose merger lowers (or least raises) the description length, sweep again, and
   repeat down to one block, recording every state;
4. keep the state of least description length (flat or nested edge prior, ``nested``), over ``n_init``
   starts, for each of the two models, and the model of least description length (``degree_corrected="auto"``).

The hierarchy above level 0 (``nested=True``) is found greedily on the block graph; it changes which number
of blocks wins (a hierarchy describes many blocks more cheaply than the flat prior), not the level-0 moves,
whose flat edge prior is constant at a fixed number of blocks.
"""
import numbers
import warnings

import numpy as np
from scipy.special import gammaln

from ..base import Estimator
from ..errors import ConvergenceWarning, InvalidInputError, NeurosuiteWarning
from ..inputs import check_data
from ..utils import check_option, check_random_state, check_scalar
from .dl import LogQ, flat_edge_dl, lbinom, log_double_factorial_even, nested_edge_dl, weight_terms

_EPS = 1e-10
_MODELS = ("non_degree_corrected", "degree_corrected")


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


def _spectral_labels(basis, n_blocks, rng):
    """Hard labels from k-means on the leading ``n_blocks`` eigenvectors, rows normalised (degree-free)."""
    if n_blocks == 1:
        return np.zeros(basis.shape[0], dtype=np.int64)
    emb = basis[:, :n_blocks].copy()
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), _EPS)
    return _kmeans(emb, n_blocks, rng)


class _Graph:
    """One graph's data and the parts of the description length that do not depend on the partition."""

    def __init__(self, adj, w, degree_corrected):
        self.adj, self.w = adj, w
        self.n = adj.shape[0]
        self.k = adj.sum(axis=1).astype(np.int64)
        self.n_edges = int(self.k.sum() // 2)
        self.beta = float(w[adj > 0].mean()) if self.n_edges else 1.0
        self.dc = bool(degree_corrected)
        self.k_onehot = np.eye(int(self.k.max()) + 1)[self.k] if self.dc else None
        self.log_q = LogQ(int(self.k.sum()), self.n) if self.dc else None
        self.constant = np.log(self.n) + gammaln(self.n + 1) - (gammaln(self.k + 1).sum() if self.dc else 0.0)

    def pair_terms(self, e, x, diagonal):
        """Adjacency and weight terms of block pairs with ``e`` edge ends and summed weight ``x``;
        ``diagonal`` marks the pairs r = r (e, x doubled there).

        -ln e_rs! (or -ln e_rr!!) plus the weights' -ln beta - ln m! + (m + 1) ln(beta + X), written so that
        one gammaln call serves both (m = e_rs, or e_rr / 2 inside a block; both vanish at m = 0).
        """
        half = np.where(diagonal, 0.5, 1.0)
        m, xs = e * half, x * half
        return (-2.0 * gammaln(m + 1) - np.where(diagonal, m * np.log(2.0), 0.0)
                + (m + 1) * np.log(self.beta + xs) - np.log(self.beta))

    def block_terms(self, n, er, hist_term):
        """Per-block terms (partition sizes, degree prior or n_r^{e_r}) of blocks of ``n`` nodes with degree
        sum ``er`` and sum_k ln n_r^k! = ``hist_term``."""
        if self.dc:  # the partition's -ln n_r! cancels the degree prior's +ln n_r!
            return gammaln(er + 1) + self.log_q(er, n) - hist_term
        return np.where(n > 0, er * np.log(np.maximum(n, 1)), 0.0) - gammaln(n + 1)

    def global_terms(self, n_blocks):
        """Terms that depend on the number of blocks only (flat edge-count prior included)."""
        return self.constant + lbinom(self.n - 1, n_blocks - 1) + flat_edge_dl(n_blocks, self.n_edges)


class _State:
    """A partition with its block statistics, updated in place by node moves and merges."""

    def __init__(self, graph, labels):
        self.g = graph
        self.labels = np.asarray(labels, dtype=np.int64).copy()
        self._recompute()

    def _recompute(self):
        g = self.g
        slots = int(self.labels.max()) + 1
        z = np.eye(slots)[self.labels]
        self.c, self.y = g.adj @ z, g.w @ z                 # per node: edges and weight into each block
        self.n = z.sum(axis=0)
        self.e, self.x = z.T @ self.c, z.T @ self.y         # diagonal doubled
        self.er = self.e.sum(axis=1)
        self.hist = z.T @ g.k_onehot if g.dc else None
        self.f = g.pair_terms(self.e, self.x, np.eye(slots, dtype=bool))  # pair terms, kept up to date

    def hist_terms(self, rows=None):
        if not self.g.dc:
            return 0.0 if rows is None else np.zeros(len(rows))
        h = self.hist if rows is None else self.hist[rows]
        return gammaln(h + 1).sum(axis=-1)

    def n_blocks(self):
        return int(np.count_nonzero(self.n))

    def level0_dl(self):
        """Description length with the flat edge-count prior."""
        used = np.flatnonzero(self.n)
        e, x = self.e[np.ix_(used, used)], self.x[np.ix_(used, used)]
        iu = np.triu_indices(used.size)
        pairs = self.g.pair_terms(e[iu], x[iu], iu[0] == iu[1]).sum()
        blocks = np.sum(self.g.block_terms(self.n[used], self.er[used], self.hist_terms(used)))
        return float(pairs + blocks + self.g.global_terms(used.size))

    def dl(self, nested):
        """Description length (nats) with the flat or the nested edge-count prior, and the upper levels."""
        flat = self.level0_dl()
        if not nested:
            return flat, []
        used = np.flatnonzero(self.n)
        upper, levels = nested_edge_dl(self.e[np.ix_(used, used)], self.g.n_edges)
        return flat - flat_edge_dl(used.size, self.g.n_edges) + upper, levels

    def sweep(self, rng):
        """One pass of greedy node moves in random order; returns the number of nodes moved."""
        g, moved = self.g, 0
        for i in rng.permutation(g.n):
            r = self.labels[i]
            cands = np.flatnonzero(self.n)
            cands = cands[cands != r]
            if cands.size == 0:
                continue
            delta = self._move_deltas(i, r, cands)
            best = int(np.argmin(delta))
            if delta[best] < -1e-9:
                self._move(i, r, int(cands[best]))
                moved += 1
        return moved

    def _move_deltas(self, i, r, cands):
        g, e, x, f = self.g, self.e, self.x, self.f
        c, y, ki = self.c[i], self.y[i], g.k[i]
        slots = e.shape[0]
        diag = np.eye(slots, dtype=bool)
        old_pairs = f[r].sum() + f[cands].sum(1) - f[r, cands]
        on_r = diag[r][None, :].astype(float)
        on_t = diag[cands].astype(float)
        t_count = cands.size
        new_e = np.empty((2, t_count, slots))
        new_x = np.empty((2, t_count, slots))
        new_e[0] = e[r][None, :] - c[None, :] - c[r] * on_r + c[r] * on_t
        new_x[0] = x[r][None, :] - y[None, :] - y[r] * on_r + y[r] * on_t
        new_e[1] = e[cands] + c[None, :] - c[cands][:, None] * on_r + c[cands][:, None] * on_t
        new_x[1] = x[cands] + y[None, :] - y[cands][:, None] * on_r + y[cands][:, None] * on_t
        is_diag = np.stack([np.broadcast_to(diag[r], (t_count, slots)), diag[cands]])
        terms = g.pair_terms(new_e, new_x, is_diag)
        rt = np.arange(t_count)
        new_pairs = terms[0].sum(1) + terms[1].sum(1) - terms[0][rt, cands]
        hist_r, hist_t = self.hist_terms([r])[0], self.hist_terms(cands)
        if g.dc:
            new_hist_r = hist_r - np.log(self.hist[r, ki])
            new_hist_t = hist_t + np.log(self.hist[cands, ki] + 1)
        else:
            new_hist_r, new_hist_t = 0.0, hist_t
        old_blocks = g.block_terms(self.n[r], self.er[r], hist_r) + g.block_terms(self.n[cands], self.er[cands], hist_t)
        new_blocks = (g.block_terms(self.n[r] - 1, self.er[r] - ki, new_hist_r)
                      + g.block_terms(self.n[cands] + 1, self.er[cands] + ki, new_hist_t))
        b = self.n_blocks()
        dglobal = g.global_terms(b - 1) - g.global_terms(b) if self.n[r] == 1 else 0.0
        return new_pairs - old_pairs + new_blocks - old_blocks + dglobal

    def _move(self, i, r, t):
        g = self.g
        c, y = self.c[i].copy(), self.y[i].copy()
        for mat, v in ((self.e, c), (self.x, y)):
            mat[r, :] -= v
            mat[:, r] -= v
            mat[t, :] += v
            mat[:, t] += v
        self.c[:, r] -= g.adj[:, i]
        self.c[:, t] += g.adj[:, i]
        self.y[:, r] -= g.w[:, i]
        self.y[:, t] += g.w[:, i]
        self.n[r] -= 1
        self.n[t] += 1
        self.er[r] -= g.k[i]
        self.er[t] += g.k[i]
        if g.dc:
            self.hist[r, g.k[i]] -= 1
            self.hist[t, g.k[i]] += 1
        self.labels[i] = t
        diag = np.eye(self.e.shape[0], dtype=bool)
        for b in (r, t):
            self.f[b] = g.pair_terms(self.e[b], self.x[b], diag[b])
            self.f[:, b] = self.f[b]

    def merge_best(self):
        """Merge the two blocks whose merger gives the least flat description length."""
        used = np.flatnonzero(self.n)
        best = None
        for a in range(used.size):
            for b in range(a + 1, used.size):
                u, v = used[a], used[b]
                trial = _State.__new__(_State)
                trial.g = self.g
                trial.n = self.n.copy()
                trial.n[u] += trial.n[v]
                trial.n[v] = 0
                trial.e, trial.x = self.e.copy(), self.x.copy()
                for mat in (trial.e, trial.x):
                    mat[u, :] += mat[v, :]
                    mat[:, u] += mat[:, v]
                    mat[v, :] = 0
                    mat[:, v] = 0
                trial.er = trial.e.sum(axis=1)
                if self.g.dc:
                    trial.hist = self.hist.copy()
                    trial.hist[u] += trial.hist[v]
                    trial.hist[v] = 0
                dl = trial.level0_dl()
                if best is None or dl < best[0]:
                    best = (dl, u, v)
        _, u, v = best
        self.labels[self.labels == v] = u
        self.labels = np.unique(self.labels, return_inverse=True)[1]
        self._recompute()


def _relabel_used(labels):
    return np.unique(labels, return_inverse=True)[1]


class WeightedSBM(Estimator):
    """Weighted stochastic block model (exponential weights), degree-corrected or not and flat or nested,
    fitted by minimising the description length, as graph-tool's ``minimize_nested_blockmodel_dl``.

    Parameters
    ----------
    n_blocks : int or "auto"
        Number of blocks, or "auto" to let the description length choose it in ``1 .. max_blocks``.
    max_blocks : int
        Largest number of blocks kept when ``n_blocks="auto"`` (capped at the number of nodes); the
        merge path starts from twice as many.
    degree_corrected : bool or "auto"
        Karrer–Newman degree correction (each node's degree is a parameter, so hubs and peripheral nodes of
        one community stay together); "auto" fits both models and keeps the one of lower description
        length, as the paper did.
    nested : bool
        Nested (hierarchical) edge-count prior (Peixoto 2014) instead of the flat one; it decides the number
        of blocks, and ``levels_`` holds the hierarchy.
    n_init : int
        Starts per model (one spectral, the rest spectral with 10 % of the nodes relabelled at random); the
        lowest description length is kept.
    n_iter_max : int
        Maximum node-move sweeps at each number of blocks.
    edge_threshold : float
        Weights above this are edges; the rest are non-edges (weight ignored).
    seed : None, int or numpy.random.Generator
        Seed of the k-means starts, the relabelling and the sweep order.

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
        Block of each node (blocks numbered by decreasing within-block expected weight).
    n_blocks_ : int
        Number of non-empty blocks.
    degree_corrected_ : bool
        Whether the kept model is the degree-corrected one.
    description_length_ : float
        Description length (nats) of the kept fit.
    dl_path_ : dict
        ``{"degree_corrected" | "non_degree_corrected": {number of blocks: description length}}`` over the
        merge paths of the models fitted (best start per number of blocks).
    levels_ : list of ndarray
        Node partitions of each level of the hierarchy, finest (``labels_``) first, ending in one block;
        ``[labels_]`` when ``nested=False``.
    edge_prob_ : ndarray of shape (n_blocks_, n_blocks_)
        Fraction of the node pairs of each block pair joined by an edge.
    weight_mean_ : ndarray of shape (n_blocks_, n_blocks_)
        Mean weight of the edges of each block pair (0 where there is none).
    block_weights_ : ndarray of shape (n_blocks_,)
        Block proportions.
    """

    def __init__(self, *, n_blocks="auto", max_blocks=10, degree_corrected="auto", nested=True, n_init=3,
                 n_iter_max=100, edge_threshold=0.0, seed=None):
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
        else:
            check_scalar(self.n_blocks, "n_blocks", name, kind=numbers.Integral, low=1, high=w.shape[0])
        check_scalar(self.max_blocks, "max_blocks", name, kind=numbers.Integral, low=1)
        if isinstance(self.degree_corrected, str):
            check_option(self.degree_corrected, "degree_corrected", ("auto",))
        elif not isinstance(self.degree_corrected, (bool, np.bool_)):
            raise InvalidInputError(f"The 'degree_corrected' parameter of {name} must be True, False or 'auto'; "
                                    f"got {self.degree_corrected!r} instead.")
        if not isinstance(self.nested, (bool, np.bool_)):
            raise InvalidInputError(f"The 'nested' parameter of {name} must be True or False; got "
                                    f"{self.nested!r} instead.")
        check_scalar(self.n_init, "n_init", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_iter_max, "n_iter_max", name, kind=numbers.Integral, low=1)
        check_scalar(self.edge_threshold, "edge_threshold", name, low=0.0)
        np.fill_diagonal(w, 0.0)
        adj = (w > self.edge_threshold).astype(float)
        return w * adj, adj

    def _settle(self, state, rng):
        """Sweeps until no node moves; returns whether that happened within ``n_iter_max`` sweeps."""
        for _ in range(self.n_iter_max):
            if state.sweep(rng) == 0:
                return True
        return False

    def _fit_model(self, graph, basis, rng):
        """Best state (description length, labels, levels, converged) of one model, and its merge path."""
        n = graph.n
        fixed = self.n_blocks != "auto"
        start = int(self.n_blocks) if fixed else min(n, 2 * int(self.max_blocks))
        keep_max = int(self.n_blocks) if fixed else min(n, int(self.max_blocks))
        best, path, converged_all = None, {}, True
        for init in range(self.n_init):
            labels = _spectral_labels(basis, start, rng)
            if init > 0:
                flip = rng.random(n) < 0.1
                labels[flip] = rng.integers(start, size=int(flip.sum()))
            state = _State(graph, _relabel_used(labels))
            while True:
                converged_all &= self._settle(state, rng)
                b = state.n_blocks()
                if b <= keep_max:
                    dl, levels = state.dl(self.nested)
                    path[b] = min(path.get(b, np.inf), dl)
                    if best is None or dl < best[0]:
                        best = (dl, _relabel_used(state.labels), levels)
                if fixed or b == 1:
                    break
                state.merge_best()
        return best, path, converged_all

    def fit(self, weights, y=None):
        """Fit to a symmetric non-negative weight matrix.

        Parameters
        ----------
        weights : array-like of shape (n_nodes, n_nodes)
            Symmetric, non-negative edge weights (the diagonal is ignored).
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        self : WeightedSBM
        """
        w, adj = self._validate(weights)
        rng = check_random_state(self.seed)
        n = w.shape[0]
        if not np.any(adj):
            fits = {m: ((0.0, np.zeros(n, dtype=np.int64), []), {1: 0.0}, True) for m in _MODELS}
        else:
            basis = _spectral_basis(w)
            models = (("degree_corrected",) if self.degree_corrected is True else ("non_degree_corrected",)
                      if self.degree_corrected is False else _MODELS)
            fits = {m: self._fit_model(_Graph(adj, w, m == "degree_corrected"), basis, rng) for m in models}
        chosen = min(fits, key=lambda m: fits[m][0][0])
        (dl, labels, levels), _, converged = fits[chosen]
        if not converged:
            warnings.warn(f"WeightedSBM node-move sweeps stopped after n_iter_max={self.n_iter_max} sweeps with "
                          "nodes still moving; increase n_iter_max.", ConvergenceWarning, stacklevel=2)
        k_eff = int(labels.max()) + 1
        if self.n_blocks != "auto" and k_eff < self.n_blocks:
            warnings.warn(f"WeightedSBM(n_blocks={self.n_blocks}) found only {k_eff} non-empty blocks on this "
                          f"{n}-node graph: emptying {self.n_blocks - k_eff} of them describes it more briefly. "
                          "n_blocks_ and labels_ report the blocks that remain; use n_blocks='auto' to let the "
                          "description length choose.", NeurosuiteWarning, stacklevel=2)
        self._store(w, adj, labels, k_eff, levels)
        self.degree_corrected_ = chosen == "degree_corrected"
        self.description_length_ = float(dl)
        self.dl_path_ = {m: {int(b): float(v) for b, v in sorted(f[1].items())} for m, f in fits.items()}
        return self

    def _store(self, w, adj, labels, k_eff, levels):
        z = np.eye(k_eff)[labels]
        size = z.sum(axis=0)
        pairs = np.outer(size, size) - np.diag(size)
        edges, wsum = z.T @ adj @ z, z.T @ w @ z
        p = edges / np.maximum(pairs, 1)
        mean_w = np.divide(wsum, edges, out=np.zeros_like(wsum), where=edges > 0)
        order = np.argsort(-(np.diag(p) * np.diag(mean_w)), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(k_eff)
        self.labels_ = rank[labels]
        self.n_blocks_ = k_eff
        self.edge_prob_ = p[np.ix_(order, order)]
        self.weight_mean_ = mean_w[np.ix_(order, order)]
        self.block_weights_ = size[order] / size.sum()
        node_levels, current = [self.labels_], labels
        for up in levels:
            current = up[current]
            node_levels.append(current.copy())
        self.levels_ = node_levels

    def fit_predict(self, weights, y=None):
        """Fit and return ``labels_`` (see :meth:`fit`)."""
        return self.fit(weights).labels_
