"""One Markov chain of the bi-clustering sampler: its state, one Gibbs sweep, and what each draw stores."""
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from . import updates as U
from .mfm import mfm_log_v
from scipy.special import gammaln, logsumexp

# what pydoc shows (scipy's linear_sum_assignment is a builtin, so without __all__ help() would print it)
__all__ = ["POISSON_PROPOSAL_R", "ChainState", "Sampler", "Settings", "block", "initial_state", "linear_predictor",
           "log_likelihood", "prior_states", "split_partition", "x_frames"]

POISSON_PROPOSAL_R = 100.0  # NB dispersion of the PG proposal under the Poisson likelihood (reference code)


@dataclass
class Settings:
    """Model and sampler constants for one fit (filled from BiclusterMCMC's hyper-parameters)."""
    p: int
    n_states: int
    alpha: float
    gamma: float
    kappa: float
    mfm_gamma: float
    mfm_rho: float
    likelihood: str
    dynamics_prior_scale: float
    r_prior_shape: float
    r_prior_rate: float
    new_cluster_q: float
    burn_reference: int
    cluster_model: str = "mfm"
    dp_alpha: float = 1.0
    boundary_moves: int = 0      # collapsed change-point moves per sweep (0: off)
    segment_moves: int = 0       # collapsed birth/death moves of short state segments per sweep (0: off)
    dispersion_update: str = "exact"  # 'exact' (MH-corrected CRT + slice) or 'reference' (uncorrected CRT-Gamma)
    hold_states: int = 0         # first sweeps that keep the initial state path (dynamics learn it)
    restart_states: bool = True  # the reference's restarts of the state path from the prior
    split_merge: int = 0         # split–merge proposals of the neuron clusters per sweep (0: off)
    poisson_adapt_end: int = 0   # Poisson: last sweep whose η enters the frozen expansion point η̂
    poisson_window: int = 25     # Poisson: bins per window of the windowed (ξ, S) MH updates
    poisson_window_moves: int = 2  # Poisson: change-point shifts per window (0: S only)


@dataclass
class ChainState:
    labels: np.ndarray      # (N,) compact cluster index 0 … K-1
    ids: np.ndarray         # (K,) stable cluster id of each compact cluster (label-switching bookkeeping)
    S: np.ndarray           # (T, K(p+1)) stacked latents
    d: np.ndarray           # (N,)
    C: np.ndarray           # (N, p)
    r: np.ndarray           # (N,)
    states: np.ndarray      # (T,) state of each bin (ξ_0 = ξ_1)
    A: np.ndarray           # (L, D, D)
    b: np.ndarray           # (L, D)
    Q: np.ndarray           # (L, D, D)
    beta: np.ndarray        # (L,)
    trans: np.ndarray       # (L, L)
    iteration: int = 0
    keep_states: bool = False
    next_id: int = 1
    ref_labels: np.ndarray = None   # stable-id labels that later draws are matched to
    ref_latents: dict = field(default_factory=dict)  # stable id → (p+1, T) reference latents for sign/order
    eta_sum: np.ndarray = None   # Poisson: sum of η over the adaptation sweeps
    eta_count: int = 0
    eta_hat: np.ndarray = None   # Poisson: frozen expansion point of the windowed latent updates


def block(k, p):
    return slice(k * (p + 1), (k + 1) * (p + 1))


def initial_state(rng, y, cfg):
    """One cluster, prior draws for (d, c), r = 1, a smooth random latent, random sticky-HMM states,
    dynamics A = I, b = 0, Q = 0.01 I in every state (the reference code's start)."""
    N, T = y.shape
    p, L = cfg.p, cfg.n_states
    S = U.proposal_latents(rng, 1, p, T, spline=True)[0].T.copy()
    _, _, beta, trans, states = prior_states(rng, T, cfg)
    D = p + 1
    return ChainState(
        labels=np.zeros(N, dtype=np.int64), ids=np.array([0]), S=S,
        d=rng.standard_normal(N), C=rng.standard_normal((N, p)),
        r=np.ones(N) if cfg.likelihood == "negbin" else np.full(N, POISSON_PROPOSAL_R),
        states=states, A=np.tile(np.eye(D), (L, 1, 1)), b=np.zeros((L, D)),
        Q=np.tile(cfg.new_cluster_q * np.eye(D), (L, 1, 1)), beta=beta, trans=trans)


def prior_states(rng, T, cfg):
    """β, π and a state path from the weak-limit sticky HDP-HMM prior (uniform initial state)."""
    L = cfg.n_states
    beta = np.maximum(rng.dirichlet(np.full(L, cfg.gamma / L)), 1e-300)
    beta /= beta.sum()
    trans = np.vstack([rng.dirichlet(cfg.alpha * beta + cfg.kappa * np.eye(L)[j]) for j in range(L)])
    trans = np.maximum(trans, 1e-300)
    trans /= trans.sum(1, keepdims=True)
    cum = np.cumsum(trans, 1)
    u = rng.random(T)
    states = np.empty(T, dtype=np.int64)
    states[0] = int(u[0] * L)
    for t in range(1, T):
        states[t] = min(int(np.searchsorted(cum[states[t - 1]], u[t])), L - 1)
    return L, None, beta, trans, states


def linear_predictor(st, p):
    """η (N, T) = d_i + [1, c_i] · S^{(z_i)}_t."""
    K = len(st.ids)
    Ctil = U.loading_matrix(st.labels, st.C, K)
    return st.d[:, None] + Ctil @ st.S.T


def log_likelihood(y, eta, r, likelihood):
    if likelihood == "poisson":
        return U.poisson_loglik(y, eta)
    return U.nb_loglik(y, r, eta)


class Sampler:
    """Gibbs sweeps for one chain; ``state`` is everything needed to continue (checkpointable)."""

    def __init__(self, y, cfg, rng, state=None):
        self.y = y
        self.cfg = cfg
        self.rng = rng
        self.state = initial_state(rng, y, cfg) if state is None else state
        N = y.shape[0]
        if cfg.cluster_model == "mfm":
            self.log_v = mfm_log_v(N, cfg.mfm_gamma, cfg.mfm_rho, t_max=N + 1)
        self.poisson = cfg.likelihood == "poisson"
        self.split_merge_tried = np.zeros(2, dtype=np.int64)     # splits, merges proposed
        self.split_merge_accepted = np.zeros(2, dtype=np.int64)
        self.window_moves = np.zeros(2, dtype=np.int64)           # Poisson (ξ, S) window moves: tried, accepted

    # ------------------------------------------------------------ helpers
    def _r_pg(self):
        return np.full(self.y.shape[0], POISSON_PROPOSAL_R) if self.poisson else self.state.r

    def _mh_poisson(self, eta_new, eta_old, rows=None):
        """Accept a PG (NB r=100) proposal under the Poisson likelihood: the Gibbs kernel of the NB model is
        reversible for the NB posterior, so the ratio is [Pois/NB](new) ÷ [Pois/NB](old)."""
        y = self.y if rows is None else self.y[rows]
        rr = np.full(y.shape[0], POISSON_PROPOSAL_R)
        def w(eta):
            return (U.poisson_loglik(y, eta) - U.nb_loglik(y, rr, eta))
        return w(eta_new), w(eta_old)

    # ------------------------------------------------------------ steps
    def step_latents(self):
        """PG augmentation, then (with boundary moves on) change-point moves of the state path with the latents
        integrated out, then FFBS of the latents: an exact blocked update of (ξ, S) given ω."""
        st, p, y, cfg = self.state, self.cfg.p, self.y, self.cfg
        K = len(st.ids)
        D = K * (p + 1)
        Ctil = U.loading_matrix(st.labels, st.C, K)
        eta_old = st.d[:, None] + Ctil @ st.S.T
        r = self._r_pg()
        omega, kappa = U.nb_pseudo_obs(self.rng, y, r, eta_old)
        info = U.latent_information(omega, kappa, st.d[:, None], st.labels, st.C, K)
        states = st.states
        move = (cfg.boundary_moves or cfg.segment_moves) and st.iteration > cfg.hold_states
        if move:
            states, _ = U.shift_boundaries(self.rng, *info, st.states, st.A, st.b, st.Q, np.zeros(D), np.eye(D),
                                           st.trans, cfg.boundary_moves)
            if cfg.segment_moves:
                states, _ = U.birth_death_segments(self.rng, *info, states, st.A, st.b, st.Q, np.zeros(D),
                                                   np.eye(D), st.trans, st.beta, cfg.segment_moves)
        S_new = U.sample_latents(self.rng, omega, kappa, st.d[:, None], st.labels, st.C, K, states, st.A,
                                 st.b, st.Q, np.zeros(D), np.eye(D), info=info)
        if self.poisson:
            eta_new = st.d[:, None] + Ctil @ S_new.T
            wn, wo = self._mh_poisson(eta_new, eta_old)
            if move:
                # (ξ, S) moved together: one decision for the whole block
                if np.log(self.rng.random()) >= wn.sum() - wo.sum():
                    return None
            else:
                # one MH decision per cluster, as the reference code does
                for k in range(K):
                    rows = st.labels == k
                    if np.log(self.rng.random()) >= wn[rows].sum() - wo[rows].sum():
                        S_new[:, block(k, p)] = st.S[:, block(k, p)]
        st.states, st.S = states, S_new
        return omega, kappa

    def step_latents_windowed(self):
        """Poisson only: after the adaptation sweeps, MH moves of the state path and latents (ξ, S) window by
        window, with a Gaussian proposal from the likelihood expanded at the frozen η̂
        (``updates.windowed_latents_mh``). The PG step above uses NB(r = 100) pseudo-observations, whose ω nearly
        fixes η (PG(y + r, ·) has little spread for large r), so on its own the chain moves little per sweep;
        these proposals do not depend on the current η. Until then η is averaged into η̂ (sweeps
        hold_states + 1 … poisson_adapt_end)."""
        st, cfg = self.state, self.cfg
        if not self.poisson or st.iteration <= cfg.hold_states:
            return
        if st.eta_hat is None:
            eta = linear_predictor(st, cfg.p)
            st.eta_sum = eta if st.eta_sum is None else st.eta_sum + eta
            st.eta_count += 1
            if st.iteration >= cfg.poisson_adapt_end:
                st.eta_hat, st.eta_sum = st.eta_sum / st.eta_count, None
            return
        self.window_moves += U.windowed_latents_mh(self.rng, self.y, st.eta_hat, st.d, st.labels, st.C, st.S,
                                                   st.states, st.A, st.b, st.Q, st.trans, cfg.poisson_window,
                                                   cfg.poisson_window_moves)

    def _restart_states(self):
        """The reference's escape from a degenerate segmentation: while one state holds most bins (during the
        first 1 % of iterations, or after occupancy > 70 % until it falls below 60 %), the dynamics step starts
        from a state path drawn afresh from the sticky HDP-HMM prior, as a newly built pyhsmm model would."""
        st, T = self.state, self.state.states.size
        occ = np.bincount(st.states).max() / T
        if st.iteration > self.cfg.burn_reference:
            if st.keep_states and occ > 0.7:
                st.keep_states = False
            elif not st.keep_states and occ < 0.6:
                st.keep_states = True
        if st.keep_states and st.iteration > self.cfg.burn_reference:
            return
        _, _, st.beta, st.trans, st.states = prior_states(self.rng, T, self.cfg)

    def step_dynamics(self):
        st, cfg = self.state, self.cfg
        if cfg.restart_states:
            self._restart_states()
        st.A, st.b, st.Q = U.sample_dynamics(self.rng, st.S, st.states, cfg.n_states, cfg.dynamics_prior_scale)
        if st.iteration <= cfg.hold_states:
            return
        st.beta, st.trans = U.sample_sticky_hdp(self.rng, st.states, st.beta, cfg.alpha, cfg.gamma, cfg.kappa)
        ll = U.transition_loglik(st.S, st.A, st.b, st.Q)
        st.states = U.sample_states(self.rng, ll, st.trans)

    def step_loadings(self, rows=None, pseudo_obs=None):
        """(d_i, c_i) | ω, S. Under the NB likelihood the sweep passes the ω drawn for the latents: given ω the
        augmented model is Gaussian in S and in (d, C), so both are exact conditionals of one augmentation
        (and r is updated with ω integrated out before ω is redrawn). Poisson draws its own NB(100) proposal."""
        st, p, y = self.state, self.cfg.p, self.y
        rows = np.arange(y.shape[0]) if rows is None else rows
        if rows.size == 0:
            return
        labels = st.labels[rows]
        idx = labels[:, None] * (p + 1) + np.arange(p + 1)[None, :]
        lat = st.S[:, idx]  # (T, n, p+1)
        eta_old = st.d[rows, None] + np.einsum("tnj,nj->nt", lat, np.column_stack((np.ones(rows.size), st.C[rows])))
        if pseudo_obs is not None and not self.poisson:
            omega, kappa = pseudo_obs
        else:
            omega, kappa = U.nb_pseudo_obs(self.rng, y[rows], self._r_pg()[rows], eta_old)
        d_new, C_new = U.sample_loadings(self.rng, omega, kappa, labels, st.S, p)
        if self.poisson:
            eta_new = d_new[:, None] + np.einsum("tnj,nj->nt", lat, np.column_stack((np.ones(rows.size), C_new)))
            wn, wo = self._mh_poisson(eta_new, eta_old, rows)
            keep = np.log(self.rng.random(rows.size)) >= wn.sum(1) - wo.sum(1)
            d_new[keep], C_new[keep] = st.d[rows][keep], st.C[rows][keep]
        st.d[rows], st.C[rows] = d_new, C_new

    def step_dispersion(self):
        if self.poisson:
            return
        st = self.state
        eta = linear_predictor(st, self.cfg.p)
        a0, h0 = self.cfg.r_prior_shape, self.cfg.r_prior_rate
        if self.cfg.dispersion_update == "reference":
            st.r = U.reference_dispersion(self.rng, self.y, eta, st.r, a0, h0)
            return
        st.r, _ = U.sample_dispersion(self.rng, self.y, eta, st.r, a0, h0)
        st.r = U.slice_dispersion(self.rng, self.y, eta, st.r, a0, h0)

    def identify(self):
        """Re-centre each cluster's latents (shift into d_i and b) and rotate x^(k) to orthogonal rows (SVD),
        with the sign and order of the rows matched to the cluster's reference latents; A, b, Q follow."""
        st, p = self.state, self.cfg.p
        T, D = st.S.shape
        m = st.S.mean(0)
        R = np.eye(D)
        for k, cid in enumerate(st.ids):
            blk = block(k, p)
            rows = st.labels == k
            st.d[rows] += np.column_stack((np.ones(rows.sum()), st.C[rows])) @ m[blk]
            X = (st.S[:, blk] - m[blk])[:, 1:]  # (T, p)
            _, _, Vh = np.linalg.svd(X, full_matrices=False)
            Xn = X @ Vh.T
            ref = st.ref_latents.get(int(cid))
            if ref is not None:
                cross = Xn.T @ ref[1:].T  # (p new, p ref)
                row, col = linear_sum_assignment(-np.abs(cross))
                order = row[np.argsort(col)]
                sign = np.sign(cross[order, np.arange(p)])
                sign[sign == 0] = 1.0
                Vh = sign[:, None] * Vh[order]
            Rk = np.eye(p + 1)
            Rk[1:, 1:] = Vh
            R[blk, blk] = Rk
            st.C[rows] = st.C[rows] @ Vh.T
        st.b = ((st.A - np.eye(D)) @ m + st.b) @ R.T
        st.A = R @ st.A @ R.T  # R orthogonal
        st.Q = R @ st.Q @ R.T
        st.S = (st.S - m) @ R.T

    def step_labels(self):
        """Collapsed MFM (or DP) Gibbs over neuron labels with one auxiliary new-cluster latent per neuron
        (Neal 2000 algorithm 8, m = 1; MFM weights of Miller & Harrison 2018). c_i is integrated out by
        Laplace's method; d_i stays fixed."""
        st, cfg, p, y = self.state, self.cfg, self.cfg.p, self.y
        N, T = y.shape
        r = self._r_pg() if not self.poisson else np.ones(N)
        K = len(st.ids)
        lat = [st.S[:, block(k, p)].T.copy() for k in range(K)]  # (p+1, T) each
        logm = self._marginals(np.arange(N), lat, r)  # (N, K)
        spline = st.iteration % 10 == 1
        aux = U.proposal_latents(self.rng, N, p, T, spline)
        aux_logm = self._marginals_pairs(np.arange(N), aux, r)
        counts = np.bincount(st.labels, minlength=K).astype(float)
        labels = st.labels.copy()
        born = []
        for i in range(N):
            c = labels[i]
            counts[c] -= 1
            active = np.flatnonzero(counts > 0)
            t = active.size
            if counts[c] > 0:
                new_lat, new_logm = aux[i], aux_logm[i]
            else:
                new_lat, new_logm = lat[c], logm[i, c]
            if cfg.cluster_model == "mfm":
                log_new = self.log_v[t] - self.log_v[t - 1] + np.log(cfg.mfm_gamma) if t > 0 else 0.0
                log_old = np.log(counts[active] + cfg.mfm_gamma)
            else:
                log_new = np.log(cfg.dp_alpha)
                log_old = np.log(counts[active])
            logp = np.concatenate((log_old + logm[i, active], [log_new + new_logm]))
            prob = np.exp(logp - logp.max())
            j = self.rng.choice(t + 1, p=prob / prob.sum())
            if j < t:
                labels[i] = active[j]
            elif counts[c] == 0:
                labels[i] = c  # a singleton keeps its own cluster
            else:
                lat.append(new_lat.copy())
                k_new = len(lat) - 1
                col = self._marginals(np.arange(N), [new_lat], r)[:, 0]
                logm = np.column_stack((logm, col))
                counts = np.append(counts, 0.0)
                labels[i] = k_new
                born.append(k_new)
            counts[labels[i]] += 1
        self._rebuild(labels, lat, born)

    # ------------------------------------------------------------ split–merge of neuron clusters
    def step_split_merge(self):
        """One Metropolis–Hastings split or merge of neuron clusters (reversible jump, c_i collapsed by Laplace as
        in ``step_labels``; d_i, r_i and the other clusters untouched).

        Split: pick a cluster of size ≥ 2 uniformly and cut it in two by ``split_partition`` (deterministic given
        its members); both halves get fresh latents S_a ~ q(· | a), S_b ~ q(· | b) (``split_proposal``). Merge:
        pick a pair of clusters uniformly; it is the reverse of a split only if cutting their union reproduces
        the pair (else rejected); the union gets S_m ~ q(· | a ∪ b). The latents of the clusters a move creates
        or removes are scored under the random-walk birth prior p0 that a new cluster's dynamics block starts
        with (A = I, b = 0, Q = q I, S_0 ~ N(0, I)); the acceptance ratio holds the neurons' Laplace marginals,
        the MFM (or DP) partition prior, p0 and q of both sides, and the move-choice probabilities. Involved
        neurons' (d, c) are then redrawn from their conditional (c was collapsed in the move).
        """
        st, p = self.state, self.cfg.p
        labels = st.labels
        K = len(st.ids)
        sizes = np.bincount(labels, minlength=K)
        n_splittable = int(np.sum(sizes >= 2))
        if K == 1 and n_splittable == 0:
            return
        if self.rng.random() < self._p_split(K, n_splittable):
            self.split_merge_tried[0] += 1
            k = int(self.rng.choice(np.flatnonzero(sizes >= 2)))
            union = np.flatnonzero(labels == k)
            side = split_partition(self.y, union)
            if side is None:
                return
            a, b = union[~side], union[side]
            S_a, q_a, p0_a = self.split_proposal(a, draw=True)
            S_b, q_b, p0_b = self.split_proposal(b, draw=True)
            S_m = st.S[:, block(k, p)].copy()
            _, q_m, p0_m = self.split_proposal(union, S=S_m)
            n_after = n_splittable - 1 + int(a.size >= 2) + int(b.size >= 2)
            log_acc = (self._split_log_target(a, b, S_a, S_b, S_m, K) + p0_a + p0_b - p0_m - q_a - q_b + q_m
                       + np.log(1.0 - self._p_split(K + 1, n_after)) - np.log(K * (K + 1) / 2.0)
                       - np.log(self._p_split(K, n_splittable)) + np.log(n_splittable))
            if np.log(self.rng.random()) < log_acc:
                new_labels = labels.copy()
                new_labels[a], new_labels[b] = K, K + 1
                lat = [st.S[:, block(j, p)].T.copy() for j in range(K)] + [S_a.T.copy(), S_b.T.copy()]
                self._rebuild(new_labels, lat, [], refresh=False)
                self.step_loadings(union)
                self.split_merge_accepted[0] += 1
        else:
            self.split_merge_tried[1] += 1
            ka, kb = self.rng.choice(K, 2, replace=False)
            union = np.flatnonzero((labels == ka) | (labels == kb))
            side = split_partition(self.y, union)
            if side is None:
                return
            if labels[union[0]] != ka:
                ka, kb = kb, ka  # ka holds the union's lowest-index neuron, as the split's first side
            if not np.array_equal(union[side], np.flatnonzero(labels == kb)):
                return  # not reachable by a split: the reverse proposal has probability zero
            a, b = np.flatnonzero(labels == ka), np.flatnonzero(labels == kb)
            S_a, S_b = st.S[:, block(ka, p)].copy(), st.S[:, block(kb, p)].copy()
            _, q_a, p0_a = self.split_proposal(a, S=S_a)
            _, q_b, p0_b = self.split_proposal(b, S=S_b)
            S_m, q_m, p0_m = self.split_proposal(union, draw=True)
            n_merged = n_splittable - int(a.size >= 2) - int(b.size >= 2) + 1
            log_split = (self._split_log_target(a, b, S_a, S_b, S_m, K - 1) + p0_a + p0_b - p0_m - q_a - q_b + q_m
                         + np.log(1.0 - self._p_split(K, n_splittable)) - np.log(K * (K - 1) / 2.0)
                         - np.log(self._p_split(K - 1, n_merged)) + np.log(n_merged))
            if np.log(self.rng.random()) < -log_split:
                new_labels = labels.copy()
                new_labels[union] = K
                lat = [st.S[:, block(j, p)].T.copy() for j in range(K)] + [S_m.T.copy()]
                self._rebuild(new_labels, lat, [], refresh=False)
                self.step_loadings(union)
                self.split_merge_accepted[1] += 1

    @staticmethod
    def _p_split(K, n_splittable):
        """Probability of proposing a split (rather than a merge) with K clusters, n_splittable of size ≥ 2."""
        if n_splittable == 0:
            return 0.0
        return 1.0 if K == 1 else 0.5

    def _split_log_target(self, a, b, S_a, S_b, S_m, K_merged):
        """log π(split) − log π(merged) without the latents' prior: Laplace marginals of the neurons of a and b
        under their own latents against the merged latents, and the partition prior ratio (K_merged →
        K_merged + 1 clusters)."""
        cfg = self.cfg
        N = self.y.shape[0]
        r = self._r_pg() if not self.poisson else np.ones(N)
        ma = self._marginals(a, [S_a.T.copy(), S_m.T.copy()], r)
        mb = self._marginals(b, [S_b.T.copy(), S_m.T.copy()], r)
        na, nb = a.size, b.size
        if cfg.cluster_model == "mfm":
            g = cfg.mfm_gamma
            log_prior = (self.log_v[K_merged] - self.log_v[K_merged - 1] + gammaln(g + na) + gammaln(g + nb)
                         - gammaln(g + na + nb) - gammaln(g))
        else:
            log_prior = np.log(cfg.dp_alpha) + gammaln(na) + gammaln(nb) - gammaln(na + nb)
        return float((ma[:, 0] - ma[:, 1]).sum() + (mb[:, 0] - mb[:, 1]).sum() + log_prior)

    def split_proposal(self, rows, draw=False, S=None, n_newton=8):
        """Gaussian proposal q(S' | neurons ``rows``) for a split-off cluster's latents and the birth prior.

        A deterministic function of the neurons' counts, d_i and r_i (so that a merge evaluates the same
        density): start from a rank-(p+1) fit of their smoothed log rates (mean over neurons for μ, top p
        principal components for x and loadings ĉ_i), then alternate Newton steps for the latent path under the
        random-walk birth prior (a Kalman smoother of the linearised likelihood) with Newton steps for ĉ_i
        (prior N(0, I)); q is the Laplace approximation at the end, drawn by FFBS. Returns (S', log q(S'),
        log p0(S')); S' is drawn if ``draw``, else the given ``S`` is scored.
        """
        from scipy.ndimage import gaussian_filter1d
        from ._kernels import ffbs_information, kalman_log_marginal
        st, p, y = self.state, self.cfg.p, self.y[rows]
        P, (n, T) = p + 1, y.shape
        d = st.d[rows, None]
        G = np.log(gaussian_filter1d(y, 2.0, axis=1) + 0.1) - d
        mu = G.mean(0)
        R = G - mu
        R -= R.mean(1, keepdims=True)
        U_, s_, Vh = np.linalg.svd(R, full_matrices=False)
        k = min(p, s_.size)
        m_hat = np.zeros((T, P))
        m_hat[:, 0] = mu - mu.mean()
        m_hat[:, 1:1 + k] = (s_[:k, None] * Vh[:k]).T / np.sqrt(n)
        Cl = np.zeros((n, p))
        Cl[:, :k] = U_[:, :k] * np.sqrt(n)
        r = None if self.poisson else self._r_pg()[rows][:, None]
        A, b, Q = np.eye(P)[None], np.zeros((1, P)), self.cfg.new_cluster_q * np.eye(P)[None]
        states, zeros = np.zeros(T, np.int64), np.zeros((T, P))

        def grad_weight(eta):
            eta = np.minimum(eta, 30.0)
            if self.poisson:
                lam = np.exp(eta)
                return y - lam, lam
            q_ = np.exp(eta - np.logaddexp(np.log(r), eta))
            return y - (y + r) * q_, (y + r) * q_ * (1.0 - q_)

        for it in range(n_newton + 1):
            Ct = np.column_stack((np.ones(n), Cl))
            lin = m_hat @ Ct.T  # (T, n)
            g, w = grad_weight(d + lin.T)
            J = np.einsum("nt,na,nb->tab", w, Ct, Ct)
            h = (g + w * lin.T).T @ Ct
            if it == n_newton:
                break
            m_hat, _ = ffbs_information(J, h, states, A, b, Q, np.zeros(P), np.eye(P), zeros)
            X = m_hat[:, 1:]
            g, w = grad_weight(d + (m_hat @ Ct.T).T)
            H = np.einsum("nt,ta,tb->nab", w, X, X) + np.eye(p)
            Cl = Cl + np.linalg.solve(H, (g @ X - Cl)[:, :, None])[:, :, 0]
        # the target does not fix the frame of x (c_i ~ N(0, I) is collapsed), and a chain's latents sit in any
        # frame: q mixes the Laplace approximation uniformly over a grid of rotations/reflections of x
        frames = x_frames(p)
        if draw:
            S, _ = ffbs_information(J, h, states, A, b, Q, np.zeros(P), np.eye(P), self.rng.standard_normal((T, P)))
            S[:, 1:] = S[:, 1:] @ frames[self.rng.integers(len(frames))].T
        mf, Pf, lz = np.empty((T, P)), np.empty((T, P, P)), np.empty(T)
        log_z = kalman_log_marginal(J, h, states, A, b, Q, np.zeros(P), np.eye(P), 0, mf, Pf, lz)
        qv = self.cfg.new_cluster_q
        dS = np.diff(S, axis=0)
        log_p0 = (-0.5 * (S[0] @ S[0]) - 0.5 * (dS * dS).sum() / qv
                  - 0.5 * P * T * np.log(2.0 * np.pi) - 0.5 * P * (T - 1) * np.log(qv))
        log_qs = np.empty(len(frames))
        for i, O in enumerate(frames):
            S0 = S.copy()
            S0[:, 1:] = S[:, 1:] @ O  # the path that O maps to S
            dS0 = np.diff(S0, axis=0)
            lp0 = -0.5 * (S0[0] @ S0[0]) - 0.5 * (dS0 * dS0).sum() / qv
            log_qs[i] = lp0 - 0.5 * np.einsum("ta,tab,tb->", S0, J, S0) + (h * S0).sum()
        const = -0.5 * P * T * np.log(2.0 * np.pi) - 0.5 * P * (T - 1) * np.log(qv) - log_z
        log_q = float(logsumexp(log_qs) - np.log(len(frames)) + const)
        return S, log_q, log_p0

    def _marginals(self, rows, lat, r):
        """Laplace log marginals of neurons ``rows`` under each latent in ``lat``: (len(rows), len(lat))."""
        K = len(lat)
        rr = np.repeat(rows, K)
        cc = np.tile(np.arange(K), rows.size)
        out = U.laplace_log_marginal_pairs(self.y, self.state.d, r, np.stack(lat), rr, cc, self.poisson)
        return out.reshape(rows.size, K)

    def _marginals_pairs(self, rows, lat, r):
        return U.laplace_log_marginal_pairs(self.y, self.state.d, r, lat, rows, np.arange(rows.size), self.poisson)

    def _rebuild(self, labels, lat, born, refresh=True):
        """Drop empty clusters, append new ones (dynamics blocks A = I, b = 0, Q = q I, no coupling), then
        refresh each new cluster's latents and its neurons' loadings once (the reference's birth step)."""
        st, p = self.state, self.cfg.p
        K_old = len(st.ids)
        used = np.unique(labels)
        keep_old = [k for k in used if k < K_old]
        new = [k for k in used if k >= K_old]
        order = keep_old + new
        remap = -np.ones(len(lat), dtype=np.int64)
        remap[order] = np.arange(len(order))
        T = st.S.shape[0]
        K = len(order)
        D = K * (p + 1)
        S = np.empty((T, D))
        for j, k in enumerate(order):
            S[:, block(j, p)] = lat[k].T
        L = st.A.shape[0]
        A = np.tile(np.eye(D), (L, 1, 1))
        b = np.zeros((L, D))
        Q = np.tile(self.cfg.new_cluster_q * np.eye(D), (L, 1, 1))
        old_cols = np.concatenate([np.arange(k * (p + 1), (k + 1) * (p + 1)) for k in keep_old]).astype(int)
        n_old = len(old_cols)
        A[:, :n_old, :n_old] = st.A[:, old_cols][:, :, old_cols]
        b[:, :n_old] = st.b[:, old_cols]
        Q[:, :n_old, :n_old] = st.Q[:, old_cols][:, :, old_cols]
        ids = np.empty(K, dtype=np.int64)
        ids[:len(keep_old)] = st.ids[keep_old]
        for j in range(len(keep_old), K):
            ids[j] = st.next_id
            st.next_id += 1
        st.labels, st.S, st.A, st.b, st.Q, st.ids = remap[labels], S, A, b, Q, ids
        for k_new in (remap[k] for k in new if refresh):
            rows = np.flatnonzero(st.labels == k_new)
            self._refresh_cluster(k_new, rows)
            self.step_loadings(rows)

    def _refresh_cluster(self, k, rows):
        """PG-FFBS of one new cluster's latents from its own neurons under its (random-walk) dynamics block."""
        st, p, y = self.state, self.cfg.p, self.y
        blk = block(k, p)
        Ct = np.column_stack((np.ones(rows.size), st.C[rows]))
        eta_old = st.d[rows, None] + Ct @ st.S[:, blk].T
        r = self._r_pg()[rows]
        omega, kappa = U.nb_pseudo_obs(self.rng, y[rows], r, eta_old)
        P = p + 1
        S_k = U.sample_latents(self.rng, omega, kappa, st.d[rows, None], np.zeros(rows.size, np.int64),
                               st.C[rows], 1, np.zeros(y.shape[1], np.int64),
                               np.eye(P)[None], np.zeros((1, P)), self.cfg.new_cluster_q * np.eye(P)[None],
                               np.zeros(P), np.eye(P))
        if self.poisson:
            wn, wo = self._mh_poisson(st.d[rows, None] + Ct @ S_k.T, eta_old, rows)
            if np.log(self.rng.random()) >= wn.sum() - wo.sum():
                return
        st.S[:, blk] = S_k

    def relabel(self):
        """Match cluster ids to the reference labels by maximum overlap (Hungarian), so stored latents and
        loadings keep their meaning across draws; the reference follows the chain for its first 1 %."""
        st = self.state
        K = len(st.ids)
        if st.ref_labels is not None:
            ref_ids = np.unique(st.ref_labels)
            overlap = np.array([[np.sum((st.labels == k) & (st.ref_labels == rid)) for rid in ref_ids]
                                for k in range(K)])
            row, col = linear_sum_assignment(-overlap)
            new_ids = st.ids.copy()
            matched = [k for k, j in zip(row, col) if overlap[k, j] > 0]
            for k, j in zip(row, col):
                if overlap[k, j] > 0:
                    new_ids[k] = ref_ids[j]
            used = set(int(new_ids[k]) for k in matched)
            for k in range(K):
                if k in matched:
                    continue
                if int(st.ids[k]) in used or st.ids[k] in ref_ids:
                    new_ids[k] = st.next_id
                    st.next_id += 1
                used.add(int(new_ids[k]))
            st.ids = new_ids
        if st.iteration <= self.cfg.burn_reference or st.ref_labels is None:
            st.ref_labels = st.ids[st.labels].copy()
            st.ref_latents = {int(cid): st.S[:, block(k, self.cfg.p)].T.copy() for k, cid in enumerate(st.ids)}
        else:
            for k, cid in enumerate(st.ids):
                st.ref_latents.setdefault(int(cid), st.S[:, block(k, self.cfg.p)].T.copy())

    def sweep(self):
        """One iteration in the reference code's order."""
        self.state.iteration += 1
        pseudo_obs = self.step_latents()
        self.step_latents_windowed()
        self.step_dynamics()
        self.step_loadings(pseudo_obs=pseudo_obs)
        self.step_dispersion()
        self.identify()
        self.step_labels()
        for _ in range(self.cfg.split_merge):
            self.step_split_merge()
        self.relabel()
        self.identify()


def split_partition(y, members):
    """Deterministic two-way cut of a cluster's neurons for the split–merge move: 2-means (fixed seed) on their
    smoothed, standardised √counts (the features of the k-means start). Returns a boolean mask of the side
    without the lowest-index member, or None when the cut leaves a side empty."""
    from scipy.ndimage import gaussian_filter1d
    from sklearn.cluster import KMeans
    if members.size < 2:
        return None
    f = gaussian_filter1d(np.sqrt(y[members]), 5.0, axis=1)
    f = (f - f.mean(1, keepdims=True)) / np.maximum(f.std(1, keepdims=True), 1e-12)
    lab = KMeans(2, n_init=3, random_state=0).fit_predict(f)
    side = lab != lab[np.argmin(members)]
    if not side.any():
        return None
    return side


def x_frames(p, n_angles=72):
    """Orthogonal p × p frames the split proposal mixes over: for p = 2 rotations by 2πk/n_angles and their
    reflections; for p = 1 the two signs; otherwise all signed permutations (the split move's default is p = 2)."""
    import itertools
    if p == 1:
        return np.array([[[1.0]], [[-1.0]]])
    if p == 2:
        th = 2 * np.pi * np.arange(n_angles) / n_angles
        rot = np.stack([np.stack([np.cos(th), -np.sin(th)], -1), np.stack([np.sin(th), np.cos(th)], -1)], 1)
        return np.concatenate((rot, rot * np.array([1.0, -1.0])[None, None, :]))
    out = []
    for perm in itertools.permutations(range(p)):
        for signs in itertools.product((1.0, -1.0), repeat=p):
            out.append(np.eye(p)[list(perm)] * np.array(signs)[:, None])
    return np.array(out)
