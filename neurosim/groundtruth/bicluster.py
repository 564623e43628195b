"""Ground truth for Bayesian bi-clustering (Wei 2023, arXiv 2309.02213): the paper's simulation.

Neurons in ``n_clusters`` groups share (p+1)-dimensional latents [μ^(j); x^(j)]; the stacked latents follow a
switching linear dynamical system whose states have semi-Markov durations. Counts are negative binomial with
log mean d_i + μ^(j)_t + c_iᵀ x^(j)_t. Defaults reproduce the reference code's ``run_simulation_NB.py``.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurodata.errors import DataFileError, InvalidInputError
from neurodata.utils import check_random_state


@dataclass(frozen=True)
class BiclusterTruth:
    counts: np.ndarray        # (T, N) time-first counts
    labels: np.ndarray        # (N,) neuron cluster
    states: np.ndarray        # (T,) state of each bin (the state that generated S_t from S_{t-1})
    latents: np.ndarray       # (T, n_clusters (p+1)) stacked [μ; x] per cluster
    d: np.ndarray             # (N,)
    C: np.ndarray             # (N, p)
    r: np.ndarray             # (N,)
    log_rate: np.ndarray      # (T, N)
    A: np.ndarray             # (n_states, D, D)
    Q: np.ndarray             # (n_states, D, D)


def random_rotation(rng, n, theta):
    """A rotation by ``theta`` in a random plane of R^n (the reference code's construction)."""
    rot = np.eye(n)
    rot[:2, :2] = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return q @ rot @ q.T


def cluster_loadings(labels, C, n_clusters):
    """(N, n_clusters (p+1)) matrix whose row i holds [1, c_i] in the block of neuron i's cluster, zeros
    elsewhere: log mean = d + S @ cluster_loadings(...).T.

    Built here, not borrowed from the sampler (``neurodata.bicluster.updates``), so that the ground truth
    does not share code with the estimator it checks (a test compares the two constructions).
    """
    labels = np.asarray(labels)
    member = labels[:, None] == np.arange(n_clusters)[None, :]            # (N, K) one-hot cluster membership
    row = np.column_stack((np.ones(labels.size), C))                      # (N, p+1): [1, c_i]
    # where(...) rather than member * row: exact zeros outside the block, never -0.0
    return np.where(member[:, :, None], row[:, None, :], 0.0).reshape(labels.size, -1)


def simulate_bicluster(n_per_cluster=10, n_clusters=3, p=2, n_bins=500, r=10.0, loading_sd=0.5,
                       q_scale=1e-2, mean_duration=50.0, likelihood="negbin", seed=None):
    """Simulate the paper's model: two states with A = 0.01·I and A = 1.01 × per-cluster 3-D rotations by π/20,
    Q = q_scale·I, semi-Markov durations 1 + Poisson(λ) with λ ~ Gamma(2·mean_duration, rate 2) (mean ≈ 50),
    d_i ~ N(0, loading_sd²), c_i ~ N(0, loading_sd² I), NB counts with r_i = r (or Poisson).

    The chain runs 2·n_bins bins and keeps the last n_bins (the reference's burn-in); latents are then centred
    and rotated to orthogonal rows (the model's identifiability constraint), leaving the rates unchanged.
    """
    rng = check_random_state(seed)
    for name, v in (("n_per_cluster", n_per_cluster), ("n_clusters", n_clusters), ("p", p), ("n_bins", n_bins)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidInputError(f"The {name!r} parameter of simulate_bicluster must be an int >= 1. Got {v!r}.")
    if likelihood not in ("negbin", "poisson"):
        raise InvalidInputError(f"likelihood must be 'negbin' or 'poisson'. Got {likelihood!r} instead.")
    N = n_per_cluster * n_clusters
    P = p + 1
    D = n_clusters * P
    labels = np.repeat(np.arange(n_clusters), n_per_cluster)
    d = rng.normal(size=N) * loading_sd
    C = rng.normal(size=(N, p)) * loading_sd
    A = np.zeros((2, D, D))
    A[0] = 0.01 * np.eye(D)
    for j in range(n_clusters):
        A[1, j * P:(j + 1) * P, j * P:(j + 1) * P] = 1.01 * random_rotation(rng, P, np.pi / 20)
    Q = np.tile(q_scale * np.eye(D), (2, 1, 1))
    # semi-Markov states: with two states every segment switches to the other one
    lam = rng.gamma(2.0 * mean_duration, 1.0 / 2.0, size=2)
    total = 2 * n_bins
    states = np.empty(total, dtype=np.int64)
    s, t = int(rng.integers(2)), 0
    while t < total:
        dur = 1 + rng.poisson(lam[s])
        states[t:t + dur] = s
        t += dur
        s = 1 - s
    S = np.zeros((total, D))
    noise = rng.multivariate_normal(np.zeros(D), Q[0], size=total)
    for t in range(1, total):
        S[t] = A[states[t]] @ S[t - 1] + noise[t]
    S, states = S[n_bins:], states[n_bins:]
    # identifiability: centre (into d) and rotate x to orthogonal rows (into C)
    for j in range(n_clusters):
        blk = slice(j * P, (j + 1) * P)
        rows = labels == j
        m = S[:, blk].mean(0)
        d[rows] += np.column_stack((np.ones(rows.sum()), C[rows])) @ m
        S[:, blk] -= m
        _, _, Vh = np.linalg.svd(S[:, blk][:, 1:], full_matrices=False)
        S[:, blk.start + 1:blk.stop] = S[:, blk][:, 1:] @ Vh.T
        C[rows] = C[rows] @ Vh.T
    eta = d[None, :] + S @ cluster_loadings(labels, C, n_clusters).T
    rr = np.full(N, float(r))
    lam_t = np.exp(eta)
    if likelihood == "negbin":
        counts = rng.negative_binomial(rr[None, :], rr[None, :] / (rr[None, :] + lam_t))
    else:
        counts = rng.poisson(lam_t)
    return BiclusterTruth(counts=counts.astype(np.int64), labels=labels, states=states, latents=S, d=d, C=C,
                          r=rr, log_rate=eta, A=A, Q=Q)


REFERENCE_SIMULATION = Path(__file__).parent / "data" / "wei2023_reference_simulation.npz"


def load_reference_simulation():
    """The paper's own simulated data set: the draw that the reference code (``weigcdsb/bi_clustering``,
    ``run_simulation_NB.py``, commit eeefa7f) generates with ``np.random.seed(0)`` and on which it reports a
    state accuracy of 0.954 (``sim_NB_results.ipynb``: 23 of 500 bins wrong).

    Stored as data, not regenerated: the draw comes from pyhsmm's semi-Markov generator, whose order of random
    numbers ``simulate_bicluster`` does not copy. It was produced once by running that script's data-generation
    part under pyhsmm 0.1.7, pybasicbayes 0.2.2 and numpy 1.23.5; its true change points (23, 73, 116, 171,
    217, 268, 318, 361, 428, 477) agree within 2.5 bins with the true-state raster plotted in the notebook.
    N = 30 neurons in 3 clusters, T = 500 bins, NB counts with r = 10. As in the reference, the latents are
    centred and SVD-rotated after they were drawn while d keeps its draw, so ``log_rate`` is d + μ + cᵀx of the
    stored values."""
    if not REFERENCE_SIMULATION.is_file():
        raise DataFileError(f"The paper's simulated draw is missing: {REFERENCE_SIMULATION} (package data of "
                            "neurosim; reinstall the package).")
    with np.load(REFERENCE_SIMULATION) as f:
        data = {k: f[k] for k in f.files}
    labels, S, A = data["labels"].astype(np.int64), data["latents"], data["A"]
    return BiclusterTruth(counts=data["counts"].astype(np.int64), labels=labels,
                          states=data["states"].astype(np.int64), latents=S, d=data["d"], C=data["C"],
                          r=np.full(labels.size, 10.0),
                          log_rate=data["d"][None, :] + S @ cluster_loadings(labels, data["C"], labels.max() + 1).T,
                          A=A,
                          Q=np.tile(1e-2 * np.eye(A.shape[1]), (A.shape[0], 1, 1)))
