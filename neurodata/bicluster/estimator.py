"""BiclusterMCMC: Bayesian bi-clustering of spike counts (neurons × time states), Wei 2023 (arXiv 2309.02213)."""
import hashlib
import os
import pickle
import warnings
from contextlib import nullcontext

import numpy as np

from ..base import Estimator
from ..errors import ConvergenceWarning, DataFileError, InvalidInputError, NeurosuiteError, OutputExistsError
from ..inputs import time_first
from ..utils import announce_waits, atomic_path, check_option, check_random_state, check_scalar, progress
from . import summaries
from .sampler import Sampler, Settings, linear_predictor

NUMBA_NOTE = "numba compiles the sampler's kernels on first use (once; cached after that)"


def initial_labels(y, n_clusters, rng, p=2, max_clusters=8):
    """Labels for the chain's start: one cluster (the reference code) or a subspace clustering of the neurons.

    Candidates: k-means of the neurons' smoothed, standardised √counts for each k, each refined by k-subspaces
    (every neuron moves to the cluster whose top p+1 principal time courses, computed without it, best
    reconstruct its smoothed log(1 + counts): the model puts a cluster's log rates in the span of its p+1
    latents). ``n_clusters='auto'`` keeps the candidate (k in 1 … ``max_clusters``) with the smallest mean
    leave-one-out log residual fraction, a singleton scoring 0 (nothing explained); a fixed ``n_clusters``
    keeps that k. The chain cannot be relied on to repair the number of clusters: it rarely splits a merged
    cluster and rarely merges two halves of one, so the start matters.
    """
    from scipy.ndimage import gaussian_filter1d
    from sklearn.cluster import KMeans

    N = y.shape[0]
    if n_clusters == 1 or N < 3:
        return np.zeros(N, dtype=np.int64)
    f = gaussian_filter1d(np.sqrt(y), 5.0, axis=1)
    f = (f - f.mean(1, keepdims=True)) / np.maximum(f.std(1, keepdims=True), 1e-12)
    g = gaussian_filter1d(np.log1p(y), 2.0, axis=1)
    g -= g.mean(1, keepdims=True)
    seed = int(rng.integers(2**31))
    ks = range(1, min(max_clusters, N - 1) + 1) if n_clusters == "auto" else [min(int(n_clusters), N)]
    best, best_score = None, np.inf
    for k in ks:
        lab = np.zeros(N, dtype=np.int64) if k == 1 else KMeans(k, n_init=10, random_state=seed).fit_predict(f)
        lab, score = _subspace_refine(g, lab, p + 1)
        if score < best_score - 1e-12:
            best, best_score = lab, score
    return best.astype(np.int64)


def _loo_residuals(g, labels, rank):
    """log(‖residual‖² / ‖g_i‖²) of each neuron's series projected on each cluster's top ``rank`` principal
    time courses, its own cluster's computed without it: (N, K) for the compact labels 0 … K-1."""
    N = g.shape[0]
    K = int(labels.max()) + 1
    norm2 = np.maximum((g * g).sum(1), 1e-300)
    out = np.zeros((N, K))

    def frac(i, members):
        if members.size == 0:
            return 0.0
        _, _, Vh = np.linalg.svd(g[members], full_matrices=False)
        B = Vh[:rank]
        res = g[i] - B.T @ (B @ g[i])
        return np.log(max(res @ res, 1e-300) / norm2[i])

    for k in range(K):
        members = np.flatnonzero(labels == k)
        _, _, Vh = np.linalg.svd(g[members], full_matrices=False)
        B = Vh[:rank]
        res = g - (g @ B.T) @ B
        out[:, k] = np.log(np.maximum((res * res).sum(1), 1e-300) / norm2)
        for i in members:
            out[i, k] = frac(i, members[members != i])
    return out


def _subspace_refine(g, labels, rank, max_iter=10):
    """k-subspaces from ``labels``: reassign each neuron to its best leave-one-out cluster until nothing moves;
    returns compact labels and their mean leave-one-out log residual fraction."""
    labels = np.unique(labels, return_inverse=True)[1]
    for _ in range(max_iter):
        R = _loo_residuals(g, labels, rank)
        new = np.unique(R.argmin(1), return_inverse=True)[1]
        if np.array_equal(new, labels):
            break
        labels = new
    R = _loo_residuals(g, labels, rank)
    return labels, float(R[np.arange(labels.size), labels].mean())


def initial_states(y, labels, p, smooth=4.0):
    """Two-state start for the state path: bins where the clusters' activity is far from its resting point
    versus near it.

    Per cluster, the top p+1 principal components of log(1 + counts) smoothed by a Gaussian (σ = ``smooth``
    bins) stand in for [μ; x]; each bin's distance from the per-component median is split in two by 2-means on
    its logarithm. This is only a starting point (about 0.85 state accuracy on the paper's simulation); the
    chain then refines change points, adds and removes states.
    """
    from scipy.ndimage import gaussian_filter1d
    from sklearn.cluster import KMeans

    f = gaussian_filter1d(np.log1p(y), smooth, axis=1)
    f -= f.mean(1, keepdims=True)
    comps = []
    for k in np.unique(labels):
        U_, s_, _ = np.linalg.svd(f[labels == k].T, full_matrices=False)
        comps.append(U_[:, :p + 1] * s_[:p + 1])
    proxy = np.hstack(comps)
    dist = np.log(np.linalg.norm(proxy - np.median(proxy, 0), axis=1) + 1e-12)
    if np.ptp(dist) == 0:
        return np.zeros(y.shape[1], dtype=np.int64)
    states = KMeans(2, n_init=5, random_state=0).fit_predict(dist[:, None]).astype(np.int64)
    return np.concatenate(([states[1]], states[1:]))


class BiclusterMCMC(Estimator):
    """Bi-cluster spike counts: neurons by shared latent trajectories, time bins by latent dynamics states.

    Model (Wei 2023, reference code ``weigcdsb/bi_clustering``): y_it ~ NegBin(r_i, mean λ_it) (or Poisson),
    log λ_it = d_i + μ^(j)_t + c_iᵀ x^(j)_t for neuron i in cluster j; the stacked latents follow
    S_t = A_{ξ_t} S_{t−1} + b_{ξ_t} + N(0, Q_{ξ_t}) with ξ a weak-limit sticky HDP-HMM and (A, b, Q) ~ MNIW per
    state; neuron labels ~ mixture of finite mixtures (K ~ Geometric(rho), Dirichlet(mfm_gamma)) or a DP.
    Defaults are the paper's (models/wei_2023_bicluster.json).

    Parameters
    ----------
    n_iter, burn_in, thin : sweeps per chain; discarded start (default n_iter // 4, as the paper's figures);
        keep every ``thin``-th draw after it.
    n_chains : independent chains (R-hat needs ≥ 2).
    n_latent : p, dimension of each cluster's x.
    n_states : L, state slots of the weak-limit HDP-HMM.
    hmm_alpha, hmm_gamma, hmm_kappa : sticky HDP-HMM concentration, top-level concentration, self-transition.
    cluster_prior : 'mfm' or 'dp'.  mfm_gamma, mfm_rho : Dirichlet parameter and Geometric(rho) on K.
    dp_alpha : DP concentration (cluster_prior='dp').
    likelihood : 'negbin' or 'poisson'. Poisson chains add, after sweep max(hold_states + 1, burn_in // 2),
        Metropolis–Hastings moves of (ξ, S) in 25-bin windows whose Gaussian proposal expands the Poisson
        likelihood at the mean linear predictor of the sweeps before (frozen then, so the kept draws come from one
        fixed, valid kernel); the NB(r = 100) Pólya-Gamma proposal of the reference code alone mixes slowly.
    init : 'kmeans' (neurons by ``initial_labels``: k-means candidates refined by k-subspaces, k by a leave-one-out
        reconstruction score; states by ``initial_states``; the states are held
        for the first ``hold_states`` sweeps while the dynamics learn them) or 'single' (one cluster and state
        paths redrawn from the prior early on: the reference code's start).
    boundary_moves : Metropolis moves of the state path's change points per sweep with the latents integrated
        out (Kalman filter on the PG pseudo-observations); 0 gives the reference's sampler.
    segment_moves : reversible birth/death moves of short state segments per sweep, scored like the boundary
        moves (latents integrated out). Valid but off by default: on the paper's simulation it did not change
        the state accuracy measurably (300 sweeps, seeds 0–5, two sampler seeds).
    dispersion_update : 'exact' (the CRT-Gamma proposal with its Metropolis–Hastings correction, then a slice
        step; leaves r | y, λ invariant) or 'reference' (the reference code's uncorrected CRT-Gamma draw, which
        settles at larger r than the posterior; for comparison only).
    hold_states : sweeps that keep the initial state path (init='kmeans').
    split_merge : split–merge proposals of the neuron clusters per sweep (reversible-jump Metropolis–Hastings,
        c_i collapsed). Experimental, off by default: on the paper's simulation its proposals are almost never
        accepted (the reverse-proposal density of the chain's own latents is far below that of fresh
        Laplace-proposal draws), so it does not yet split clusters the k-means start merges.
    checkpoint : path of a pickle written every ``checkpoint_every`` sweeps; with ``resume=True`` a fit on
        the same counts continues from it. Needs chains run in this process (n_jobs=1, no scheduler).
    n_jobs, scheduler : run the chains in parallel through ``neurodata.execution.run_tasks``: ``n_jobs`` worker
        processes (joblib), or a Dask cluster (``scheduler="local"`` or a scheduler address). Each chain has
        its own random stream, so the draws do not depend on where or in which order chains run.
    seed : int or numpy Generator.  verbose : progress bars (off by default, as in every suite estimator).

    Attributes
    ----------
    labels_ : ndarray (n_neurons,)
        maxPEAR neuron clusters.
    states_ : ndarray (n_bins,)
        maxPEAR states of the time bins.
    pear_neurons_, pear_states_ : float
        Their posterior expected adjusted Rand indices.
    coclustering_neurons_, coclustering_states_ : ndarray
        Posterior co-clustering matrices.
    n_clusters_mode_, n_clusters_posterior_ : int, ndarray
        Posterior mode and distribution of the number of clusters K.
    n_clusters_trace_, n_states_trace_ : ndarray (n_chains, n_iter)
        Occupied clusters and states at every sweep.
    r_, d_ : ndarray (n_neurons,)
        Posterior means of the dispersions and baselines.
    log_rate_ : ndarray (n_bins, n_neurons)
        Posterior mean of the linear predictor η (with ``store_log_rate``).
    inference_data_ : arviz.InferenceData
        The kept draws (r, d, K, L, log-likelihood, η).
    convergence_ : pandas.DataFrame
        One row per quantity of ``inference_data_``: bulk ESS (min and median over its entries) and the largest
        rank-normalised split R-hat across chains (NaN with one chain). A fit of two or more chains warns
        (ConvergenceWarning) when a continuous quantity has R-hat > 1.05.
    chains_ : list
        Per-chain records of every kept draw.
    n_neurons_, n_bins_ : int
        The shape fitted.
    """

    def __init__(self, *, n_iter=10000, burn_in=None, thin=10, n_chains=2, n_latent=2, n_states=10,
                 hmm_alpha=5.0, hmm_gamma=5.0, hmm_kappa=10.0, cluster_prior="mfm", mfm_gamma=1.0, mfm_rho=0.2,
                 dp_alpha=1.0, likelihood="negbin", dynamics_prior_scale=1e-2, r_prior_shape=1.0,
                 r_prior_rate=1.0, init="kmeans", boundary_moves=20, segment_moves=0, dispersion_update="exact",
                 hold_states=20, split_merge=0, store_log_rate=True, checkpoint=None,
                 checkpoint_every=500, resume=False, n_jobs=1, scheduler=None, seed=None, verbose=False):
        self._keep(locals())

    # ------------------------------------------------------------------ validation
    def _validate(self, counts, bin_size=None):
        import numbers
        name = type(self).__name__
        check_scalar(self.n_iter, "n_iter", name, kind=numbers.Integral, low=2)
        burn = self.n_iter // 4 if self.burn_in is None else self.burn_in
        check_scalar(burn, "burn_in", name, kind=numbers.Integral, low=0, high=self.n_iter - 1)
        check_scalar(self.thin, "thin", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_chains, "n_chains", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_latent, "n_latent", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_states, "n_states", name, kind=numbers.Integral, low=1)
        for k in ("hmm_alpha", "hmm_gamma", "mfm_gamma", "dp_alpha", "dynamics_prior_scale", "r_prior_shape",
                  "r_prior_rate"):
            check_scalar(getattr(self, k), k, name, low=0.0, low_inclusive=False)
        check_scalar(self.hmm_kappa, "hmm_kappa", name, low=0.0)
        check_scalar(self.mfm_rho, "mfm_rho", name, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        check_scalar(self.checkpoint_every, "checkpoint_every", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_jobs, "n_jobs", name, kind=numbers.Integral, low=1)
        if self.checkpoint and (self.n_jobs > 1 or self.scheduler is not None):
            raise InvalidInputError("checkpoint needs the chains run in this process: use n_jobs=1 and no "
                                    "scheduler, or drop checkpoint.")
        check_scalar(self.boundary_moves, "boundary_moves", name, kind=numbers.Integral, low=0)
        check_scalar(self.segment_moves, "segment_moves", name, kind=numbers.Integral, low=0)
        check_scalar(self.hold_states, "hold_states", name, kind=numbers.Integral, low=0)
        check_scalar(self.split_merge, "split_merge", name, kind=numbers.Integral, low=0)
        check_option(self.cluster_prior, "cluster_prior", ("mfm", "dp"))
        check_option(self.likelihood, "likelihood", ("negbin", "poisson"))
        check_option(self.init, "init", ("kmeans", "single"))
        check_option(self.dispersion_update, "dispersion_update", ("exact", "reference"))
        # the suite's one input contract: Traces, SpikeTrains + bin_size, NWB paths or arrays (time bins ×
        # neurons); a bare array with far fewer bins than neurons is refused as transposed
        y = time_first(counts, method=f"{name}.fit", name="counts", bin_size=bin_size, counts=True,
                       orientation="long")
        T, N = y.shape
        if T < 3:
            raise InvalidInputError(f"counts has {T} time bins; at least 3 are needed for the dynamics.")
        if N < 1:
            raise InvalidInputError("counts has no neurons (0 columns).")
        silent = np.flatnonzero(y.sum(0) == 0)
        if silent.size:
            raise InvalidInputError(f"neuron column(s) {silent.tolist()} have no spikes; drop them before fitting.")
        return y.T.copy(), burn  # neurons × time inside the sampler

    def _settings(self, burn):
        hold = self.hold_states if self.init == "kmeans" else 0
        return Settings(p=self.n_latent, n_states=self.n_states, alpha=self.hmm_alpha, gamma=self.hmm_gamma,
                        kappa=self.hmm_kappa, mfm_gamma=self.mfm_gamma, mfm_rho=self.mfm_rho,
                        likelihood=self.likelihood, dynamics_prior_scale=self.dynamics_prior_scale,
                        r_prior_shape=self.r_prior_shape, r_prior_rate=self.r_prior_rate,
                        new_cluster_q=self.dynamics_prior_scale,
                        burn_reference=max(1, int(0.01 * self.n_iter)), cluster_model=self.cluster_prior,
                        dp_alpha=self.dp_alpha, boundary_moves=self.boundary_moves,
                        segment_moves=self.segment_moves, dispersion_update=self.dispersion_update,
                        split_merge=self.split_merge,
                        hold_states=hold, restart_states=self.init == "single",
                        poisson_adapt_end=max(hold + 1, burn // 2))

    # ------------------------------------------------------------------ fitting
    def fit(self, counts, *, bin_size=None):
        """Run the chains on ``counts``; returns self.

        ``counts``: time bins × neurons of non-negative integers — an array, a spine ``Traces`` of counts,
        ``SpikeTrains`` or an NWB path (its Units table) binned at ``bin_size`` (s).
        """
        y, burn = self._validate(counts, bin_size)
        cfg = self._settings(burn)
        digest = hashlib.sha256(y.tobytes()).hexdigest()
        ck = self._load_checkpoint(digest)
        rng = check_random_state(self.seed)
        if ck is None:
            seeds = rng.spawn(self.n_chains)
            ck = {"digest": digest, "params": self.get_params(), "done": [], "current": None, "rngs": seeds}
        chains = ck["done"]
        if self.n_jobs > 1 or self.scheduler is not None:
            chains.extend(self._run_parallel(y, burn, ck["rngs"][len(chains):]))
        for c in range(len(chains), self.n_chains):
            chains.append(self._run_chain(y, cfg, burn, ck["rngs"][c], f"bicluster chain {c + 1}/{self.n_chains}",
                                          current=ck["current"], ck=ck))
            ck["current"] = None
            if self.checkpoint:
                self._save_checkpoint(ck)
        self._summarise(chains, y)
        return self

    def _run_chain(self, y, cfg, burn, rng, desc, current=None, ck=None, verbose=None):
        """One chain from its start (or from a checkpoint's ``current`` state); returns its record."""
        N, T = y.shape
        if current is None:
            sampler = Sampler(y, cfg, rng)
            if self.init == "kmeans":
                self._kmeans_start(sampler, y, rng)
            rec = _Record(self.n_iter, N, T, self.n_states)
        else:
            sampler = Sampler(y, cfg, rng, state=current["state"])
            rec = current["record"]
        bar = progress(total=self.n_iter, desc=desc, verbose=self.verbose if verbose is None else verbose)
        bar.update(sampler.state.iteration)
        first = True
        while sampler.state.iteration < self.n_iter:
            with announce_waits(f"{type(self).__name__}: first sweep", note=NUMBA_NOTE) if first else nullcontext():
                sampler.sweep()
            first = False
            it = sampler.state.iteration
            rec.trace(it - 1, sampler.state)
            if it > burn and (it - burn) % self.thin == 0:
                rec.keep(sampler, self.store_log_rate)
            bar.update(1)
            if self.checkpoint and it % self.checkpoint_every == 0 and it < self.n_iter:
                ck["current"] = {"state": sampler.state, "record": rec}
                self._save_checkpoint(ck)
        bar.close()
        return rec

    def _run_parallel(self, y, burn, rngs):
        """The chains as independent tasks of ``run_tasks`` (joblib or Dask); one progress bar over chains."""
        from ..execution import run_tasks
        params = self.get_params()
        tasks = [{"params": params, "y": y, "burn": burn, "rng": rng} for rng in rngs]
        outcomes = run_tasks("neurodata.bicluster.estimator:run_chain", tasks, n_jobs=self.n_jobs,
                             scheduler=self.scheduler, desc="bicluster chains", verbose=self.verbose)
        failed = [o["error"] for o in outcomes if o["status"] != "ok"]
        if failed:
            raise NeurosuiteError(f"{len(failed)} of {len(tasks)} bicluster chains failed; first: {failed[0]}")
        return [o["value"] for o in outcomes]

    def _kmeans_start(self, sampler, y, rng):
        from . import updates as U
        labels = initial_labels(y, "auto", rng, p=self.n_latent)
        st, p, L = sampler.state, self.n_latent, self.n_states
        K = int(labels.max()) + 1
        st.labels, st.ids, st.next_id = labels, np.arange(K), K
        st.S = np.concatenate([U.proposal_latents(rng, 1, p, y.shape[1], True)[0].T for _ in range(K)], 1)
        D = K * (p + 1)
        st.A = np.tile(np.eye(D), (L, 1, 1))
        st.b = np.zeros((L, D))
        st.Q = np.tile(self.dynamics_prior_scale * np.eye(D), (L, 1, 1))
        if L > 1:
            st.states = initial_states(y, labels, p)
            st.beta, st.trans = U.sample_sticky_hdp(rng, st.states, st.beta, self.hmm_alpha, self.hmm_gamma,
                                                    self.hmm_kappa)
        st.keep_states = True

    def _load_checkpoint(self, digest):
        if self.checkpoint and not self.resume and os.path.exists(self.checkpoint):
            # the suite never replaces a file unasked: this may be another fit's checkpoint, or not one at all
            raise OutputExistsError(f"checkpoint {self.checkpoint} exists: pass resume=True to continue that fit, "
                                    "or delete it or point 'checkpoint' elsewhere.")
        if not (self.checkpoint and self.resume and os.path.exists(self.checkpoint)):
            return None
        try:
            with open(self.checkpoint, "rb") as fh:
                ck = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            raise DataFileError(f"cannot read checkpoint {self.checkpoint}: {exc}") from None
        if ck.get("digest") != digest:
            raise InvalidInputError(f"checkpoint {self.checkpoint} was written for different counts; "
                                    "delete it or point 'checkpoint' elsewhere.")
        if ck.get("params", {}).get("n_iter") != self.n_iter or ck.get("params", {}).get("n_chains") != self.n_chains:
            raise InvalidInputError(f"checkpoint {self.checkpoint} was written with other n_iter/n_chains.")
        return ck

    def _save_checkpoint(self, ck):
        with atomic_path(self.checkpoint, overwrite=True) as tmp:  # this fit's own file (checked at its start)
            with open(tmp, "wb") as fh:
                pickle.dump(ck, fh, protocol=pickle.HIGHEST_PROTOCOL)

    # ------------------------------------------------------------------ summaries
    def _summarise(self, chains, y):
        labels = np.concatenate([c.labels_draws() for c in chains])
        states = np.concatenate([c.states_draws() for c in chains])
        if labels.shape[0] == 0:
            raise InvalidInputError("no draws were kept: raise n_iter or lower burn_in/thin.")
        self.coclustering_neurons_ = summaries.coclustering(labels)
        self.coclustering_states_ = summaries.coclustering(states, max_draws=200)
        self.labels_, self.pear_neurons_ = summaries.maxpear(self.coclustering_neurons_, labels)
        self.states_, self.pear_states_ = summaries.maxpear(self.coclustering_states_, states, max_clusters=12)
        self.n_clusters_trace_ = np.stack([c.n_clusters for c in chains])
        self.n_states_trace_ = np.stack([c.n_states for c in chains])
        kept_k = np.concatenate([c.kept("n_clusters") for c in chains])
        vals, cnt = np.unique(kept_k, return_counts=True)
        self.n_clusters_mode_ = int(vals[np.argmax(cnt)])
        self.n_clusters_posterior_ = dict(zip(vals.tolist(), (cnt / cnt.sum()).tolist()))
        self.r_ = np.concatenate([c.kept("r") for c in chains]).mean(0)
        self.d_ = np.concatenate([c.kept("d") for c in chains]).mean(0)
        if chains[0].log_rate:
            self.log_rate_ = np.concatenate([c.kept("log_rate") for c in chains]).mean(0).T.astype(float)  # (T, N)
        self.inference_data_ = self._inference_data(chains)
        self.convergence_ = self._convergence(len(chains))
        self.n_neurons_, self.n_bins_ = y.shape
        self.chains_ = chains

    def _inference_data(self, chains):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arviz announces its 1.0 refactor on import
            import arviz as az
        n = min(len(c.kept("r")) for c in chains)
        post = {k: np.stack([c.kept(k)[:n] for c in chains]) for k in ("r", "d", "n_clusters", "n_states",
                                                                        "log_lik")}
        if self.likelihood == "poisson":
            post.pop("r")
        dims = {"r": ["neuron"], "d": ["neuron"]}
        if chains[0].log_rate:
            post["log_rate"] = np.stack([c.kept("log_rate")[:n] for c in chains]).transpose(0, 1, 3, 2)
            dims["log_rate"] = ["time", "neuron"]
        return az.from_dict(posterior=post, dims=dims)

    def _convergence(self, n_chains):
        """Bulk ESS and R-hat per quantity (ArviZ); warn when a continuous one has not mixed across chains."""
        import pandas as pd
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # arviz's import notice, and its warnings on constant draws (K, L)
            import arviz as az
            post = self.inference_data_.posterior
            ess = az.ess(post, method="bulk")
            rhat = az.rhat(post, method="rank") if n_chains > 1 else None

        def stat(f, values):
            values = np.asarray(values, dtype=float).ravel()
            return float(f(values)) if np.isfinite(values).any() else np.nan

        rows = {var: {"entries": int(ess[var].size),
                      "ess_bulk_min": stat(np.nanmin, ess[var].values),
                      "ess_bulk_median": stat(np.nanmedian, ess[var].values),
                      "r_hat_max": stat(np.nanmax, rhat[var].values) if rhat is not None else np.nan}
                for var in post.data_vars}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "quantity"
        continuous = table.loc[[v for v in ("r", "d", "log_lik", "log_rate") if v in table.index], "r_hat_max"]
        bad = continuous[continuous > 1.05]
        if n_chains > 1 and bad.size:
            worst = bad.idxmax()
            warnings.warn(f"{type(self).__name__}: the {n_chains} chains disagree (R-hat {bad.max():.3f} for "
                          f"'{worst}', above 1.05): raise n_iter (and burn_in) before trusting the estimates.",
                          ConvergenceWarning, stacklevel=4)
        return table

    def summary(self):
        """ArviZ summary (means, R-hat, ESS) of the continuous quantities; ``log_rate`` left out for brevity."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import arviz as az
            return az.summary(self.inference_data_, var_names=["~log_rate"], filter_vars=None)


class _Record:
    """Per-chain storage: traces of every sweep, and the kept (thinned, post-burn-in) draws."""

    def __init__(self, n_iter, N, T, L):
        self.n_clusters = np.zeros(n_iter, dtype=np.int64)
        self.n_states = np.zeros(n_iter, dtype=np.int64)
        self.draws = {k: [] for k in ("labels", "states", "r", "d", "n_clusters", "n_states", "log_lik",
                                      "log_rate")}
        self.log_rate = False

    def trace(self, i, st):
        self.n_clusters[i] = len(st.ids)
        self.n_states[i] = np.unique(st.states).size

    def keep(self, sampler, store_log_rate):
        st = sampler.state
        eta = linear_predictor(st, sampler.cfg.p)
        from .sampler import log_likelihood
        self.draws["labels"].append(st.ids[st.labels].copy())
        self.draws["states"].append(st.states.copy())
        self.draws["r"].append(st.r.copy())
        self.draws["d"].append(st.d.copy())
        self.draws["n_clusters"].append(len(st.ids))
        self.draws["n_states"].append(np.unique(st.states).size)
        self.draws["log_lik"].append(float(log_likelihood(sampler.y, eta, st.r, sampler.cfg.likelihood).sum()))
        if store_log_rate:
            self.log_rate = True
            self.draws["log_rate"].append(eta.astype(np.float32))

    def kept(self, key):
        return np.asarray(self.draws[key])

    def labels_draws(self):
        return self.kept("labels")

    def states_draws(self):
        return self.kept("states")


def run_chain(params, y, burn, rng):
    """One chain of a ``BiclusterMCMC`` with ``params`` on neurons × time counts ``y``: the task that
    ``BiclusterMCMC.fit`` hands to ``run_tasks`` for parallel chains. Returns the chain's record."""
    model = BiclusterMCMC(**params)
    return model._run_chain(y, model._settings(burn), burn, rng, "bicluster chain", verbose=False)
