"""Bi-clustering MCMC (Wei 2023): sweeps per second and ESS per second.

1. ``bench_iterations_per_second``: seconds per full Gibbs sweep on the paper's simulation (N = 30 neurons in
   3 clusters, p = 2, T = 500 bins, NB counts), ours (numba kernels for the Kalman/HMM/CRT/Laplace inner loops)
   vs the same sweep with those kernels written plainly in NumPy + Python loops (same updates, same order,
   same number of change-point moves). One core: run with NUMBA_NUM_THREADS=1 / OMP_NUM_THREADS=1 for the
   issue's one-core figure. The issue's target: ≤ 0.2 s per sweep (10,000 sweeps in ≤ 30 min; the reference
   code takes ≈ 1 s).
2. ``bench_ess_per_second_vs_pymc``: the fixed-label model (one cluster of 5 neurons, T = 40, labels, states
   and dynamics fixed) sampled by our sweep and by PyMC NUTS; seconds per effective sample of the log-rate
   trajectories η_it (median over entries; sampling time only, PyMC's compilation excluded and reported).
3. ``bench_parallel_chains``: wall time of a two-chain fit of the paper's simulation with the chains as two
   joblib worker processes (``n_jobs=2``) vs one after the other in this process; the draws are identical.
"""
import contextlib
import time
import warnings

import numpy as np


# ------------------------------------------------------------------ plain kernels (no numba)
def _plain_assemble_information(omega, resid, labels, C, K):
    N, T = omega.shape
    P = C.shape[1] + 1
    J = np.zeros((T, K * P, K * P))
    h = np.zeros((T, K * P))
    for i in range(N):
        ct = np.r_[1.0, C[i]]
        blk = slice(labels[i] * P, (labels[i] + 1) * P)
        J[:, blk, blk] += omega[i][:, None, None] * np.outer(ct, ct)[None]
        h[:, blk] += resid[i][:, None] * ct[None]
    return J, h


def _plain_ffbs_information(J, h, states, A, b, Q, m0, P0, z):
    T, D = h.shape
    mf, Pf, Jf = np.empty((T, D)), np.empty((T, D, D)), np.empty((T, D, D))
    for t in range(T):
        if t == 0:
            m_p, P_p = m0, P0
        else:
            s = states[t]
            m_p, P_p = A[s] @ mf[t - 1] + b[s], A[s] @ Pf[t - 1] @ A[s].T + Q[s]
        Jp = np.linalg.inv(P_p)
        Jf[t] = Jp + J[t]
        Pf[t] = np.linalg.inv(Jf[t])
        mf[t] = Pf[t] @ (Jp @ m_p + h[t])
    x = np.empty((T, D))
    x[-1] = mf[-1] + np.linalg.cholesky(Pf[-1]) @ z[-1]
    for t in range(T - 2, -1, -1):
        s = states[t + 1]
        AtQi = A[s].T @ np.linalg.inv(Q[s])
        Pc = np.linalg.inv(Jf[t] + AtQi @ A[s])
        mc = Pc @ (Jf[t] @ mf[t] + AtQi @ (x[t + 1] - b[s]))
        x[t] = mc + np.linalg.cholesky(0.5 * (Pc + Pc.T)) @ z[t]
    return x, mf


def _plain_kalman_log_marginal(J, h, states, A, b, Q, m0, P0, t0, mf, Pf, lz):
    T, D = h.shape
    for t in range(t0, T):
        if t == 0:
            m_p, P_p = m0, P0
        else:
            s = states[t]
            m_p, P_p = A[s] @ mf[t - 1] + b[s], A[s] @ Pf[t - 1] @ A[s].T + Q[s]
        Jp = np.linalg.inv(P_p)
        Jt = Jp + J[t]
        Pf[t] = np.linalg.inv(Jt)
        hh = Jp @ m_p + h[t]
        mf[t] = Pf[t] @ hh
        logz = (0.5 * hh @ mf[t] - 0.5 * m_p @ Jp @ m_p - 0.5 * np.linalg.slogdet(P_p)[1]
                - 0.5 * np.linalg.slogdet(Jt)[1])
        lz[t] = logz + (lz[t - 1] if t > 0 else 0.0)
    return lz[T - 1]


def _plain_hmm_sample_states(loglik, log_pi0, log_P, u):
    n, L = loglik.shape
    P = np.exp(log_P)
    alpha = np.empty((n, L))
    a = np.exp(log_pi0 + loglik[0] - (log_pi0 + loglik[0]).max())
    alpha[0] = a / a.sum()
    for t in range(1, n):
        w = (alpha[t - 1] @ P) * np.exp(loglik[t] - loglik[t].max())
        alpha[t] = w / w.sum()
    path = np.empty(n, dtype=np.int64)
    path[-1] = min(int(np.searchsorted(np.cumsum(alpha[-1]), u[-1])), L - 1)
    for t in range(n - 2, -1, -1):
        w = alpha[t] * P[:, path[t + 1]]
        path[t] = min(int(np.searchsorted(np.cumsum(w / w.sum()), u[t])), L - 1)
    return path, 0.0


def _plain_crt_row_sums(y, r, u_pool):
    out = np.zeros(y.shape[0], dtype=np.int64)
    k = 0
    for i in range(y.shape[0]):
        for t in range(y.shape[1]):
            n = int(y[i, t])
            if n:
                out[i] += int(np.sum(u_pool[k:k + n] < r[i] / (r[i] + np.arange(n))))
                k += n
    return out


def _plain_crt_counts(n, conc, u_pool):
    out = np.zeros(n.shape, dtype=np.int64)
    k = 0
    for j in range(n.shape[0]):
        for c in range(n.shape[1]):
            m = int(n[j, c])
            if m:
                out[j, c] = int(np.sum(u_pool[k:k + m] < conc[j, c] / (conc[j, c] + np.arange(m))))
                k += m
    return out


def _plain_laplace_pairs(y, d, r, lat, rows, cols, poisson, n_iter):
    from neurodata.bicluster.updates import laplace_log_marginal

    offset = d[rows][:, None] + lat[cols, 0]
    return laplace_log_marginal(y[rows], offset, lat[cols, 1:], r[rows], poisson, n_iter=n_iter)


@contextlib.contextmanager
def plain_kernels():
    """Swap the numba kernels used by the sweep for the plain versions above (restored on exit)."""
    from neurodata.bicluster import updates as U

    swap = {"assemble_information": _plain_assemble_information, "ffbs_information": _plain_ffbs_information,
            "kalman_log_marginal": _plain_kalman_log_marginal, "hmm_sample_states": _plain_hmm_sample_states,
            "crt_row_sums": _plain_crt_row_sums, "crt_counts": _plain_crt_counts,
            "laplace_pairs": _plain_laplace_pairs}
    saved = {k: getattr(U, k) for k in swap}
    try:
        for k, v in swap.items():
            setattr(U, k, v)
        yield
    finally:
        for k, v in saved.items():
            setattr(U, k, v)


def _paper_sampler(seed=0):
    from neurodata.bicluster import BiclusterMCMC
    from neurodata.bicluster.sampler import Sampler
    from neurosim.groundtruth.bicluster import load_reference_simulation

    truth = load_reference_simulation()
    est = BiclusterMCMC(n_iter=10000, n_chains=1, seed=seed, verbose=False)
    y, burn = est._validate(truth.counts)
    rng = np.random.default_rng(seed)
    sampler = Sampler(y, est._settings(burn), rng)
    est._kmeans_start(sampler, y, rng)
    return sampler


def _seconds_per_sweep(sampler, n):
    t0 = time.perf_counter()
    for _ in range(n):
        sampler.sweep()
    return (time.perf_counter() - t0) / n


def bench_iterations_per_second(quick=True):
    """Seconds per full Gibbs sweep on the paper's simulation (N = 30, T = 500, NB): numba kernels (ours) vs the
    same sweep with those kernels in plain NumPy/Python (baseline), same updates in the same order."""
    n_warm, n = (25, 20) if quick else (40, 200)
    import copy

    sampler = _paper_sampler()
    for _ in range(n_warm):  # past the held start: every update, change-point moves included, is running
        sampler.sweep()
    state = copy.deepcopy(sampler.state)
    ours = _seconds_per_sweep(sampler, n)
    sampler.state = state
    with plain_kernels():
        plain = _seconds_per_sweep(sampler, max(3, n // 4))
    return {"name": "bicluster.sweep_seconds_paper_sim_N30_T500", "ours": ours, "baseline": plain,
            "sweeps_per_second": 1.0 / ours, "minutes_for_10000_sweeps": ours * 10000 / 60,
            "baseline_kind": "same sweep, kernels in plain NumPy/Python"}


# ------------------------------------------------------------------ ESS/s vs PyMC on the fixed-label model
N_FL, T_FL, A_FL, Q_FL = 5, 40, 0.95, 0.05


def _fixed_label_data(seed=4):
    rng = np.random.default_rng(seed)
    S = np.zeros((T_FL, 2))
    S[0] = rng.standard_normal(2)
    for t in range(1, T_FL):
        S[t] = A_FL * S[t - 1] + np.sqrt(Q_FL) * rng.standard_normal(2)
    d, c = rng.normal(0.8, 0.3, N_FL), rng.normal(0.0, 0.7, N_FL)
    eta = d[:, None] + S[:, 0][None, :] + c[:, None] * S[:, 1][None, :]
    return rng.negative_binomial(6.0, 6.0 / (6.0 + np.exp(eta))).astype(float)


def _ours_fixed_label(y, n_iter, burn, seed):
    from neurodata.bicluster.sampler import Sampler, Settings

    cfg = Settings(p=1, n_states=1, alpha=5., gamma=5., kappa=10., mfm_gamma=1., mfm_rho=.2, likelihood="negbin",
                   dynamics_prior_scale=Q_FL, r_prior_shape=1., r_prior_rate=1., new_cluster_q=Q_FL,
                   burn_reference=0)
    s = Sampler(y, cfg, np.random.default_rng(seed))
    st = s.state
    st.states[:] = 0
    st.A[:], st.b[:], st.Q[:] = A_FL * np.eye(2), 0.0, Q_FL * np.eye(2)
    out = []
    t0 = time.perf_counter()
    for it in range(n_iter):
        s.step_dispersion()
        s.step_loadings(pseudo_obs=s.step_latents())
        if it >= burn:
            out.append(st.d[:, None] + st.S[:, 0][None, :] + st.C[:, :1] * st.S[:, 1][None, :])
    return np.array(out), time.perf_counter() - t0


def bench_ess_per_second_vs_pymc(quick=True):
    """Seconds per effective sample of the log-rate trajectories on the fixed-label model: our sweep vs PyMC NUTS
    (baseline; sampling time only, its compilation reported apart)."""
    import arviz as az

    y = _fixed_label_data()
    n_iter, draws = (2000, 600) if quick else (10000, 2000)
    _ours_fixed_label(y, 20, 0, 0)  # compile the kernels outside the timing
    chains = [_ours_fixed_label(y, n_iter, n_iter // 10, c) for c in range(2)]
    eta_ours = np.stack([c[0] for c in chains])
    t_ours = sum(c[1] for c in chains)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pymc as pm
        import pytensor.tensor as pt

        t = np.arange(T_FL)
        M = np.tril(A_FL ** (t[:, None] - t[None, :]).clip(0))
        M[:, 1:] *= np.sqrt(Q_FL)
        with pm.Model():
            z = pm.Normal("z", 0.0, 1.0, shape=(T_FL, 2))
            S = pt.dot(M, z)
            d = pm.Normal("d", 0.0, 1.0, shape=N_FL)
            c = pm.Normal("c", 0.0, 1.0, shape=N_FL)
            r = pm.Gamma("r", alpha=1.0, beta=1.0, shape=N_FL)
            eta = pm.Deterministic("eta", d[:, None] + S[:, 0][None, :] + c[:, None] * S[:, 1][None, :])
            pm.NegativeBinomial("y", mu=pt.exp(eta), alpha=r[:, None], observed=y)
            t0 = time.perf_counter()
            idata = pm.sample(draws=draws, tune=draws, chains=2, cores=1, random_seed=0, progressbar=False,
                              target_accept=0.9, compute_convergence_checks=False)
            t_total = time.perf_counter() - t0
        t_pymc = float(idata.sample_stats.attrs.get("sampling_time", t_total))  # tuning + draws, no compile
        ess = lambda x: np.array([az.ess(x[:, :, i, j]) for i in range(N_FL) for j in range(0, T_FL, 4)],  # noqa: E731
                                 dtype=float)
        ess_ours = ess(eta_ours)
        ess_pymc = ess(idata.posterior["eta"].values)
    ours = float(t_ours / np.median(ess_ours))
    base = float(t_pymc / np.median(ess_pymc))
    return {"name": "bicluster.seconds_per_effective_sample_fixed_label_eta", "ours": ours, "baseline": base,
            "ess_per_second_ours": 1.0 / ours, "ess_per_second_pymc": 1.0 / base,
            "median_ess_ours": float(np.median(ess_ours)), "median_ess_pymc": float(np.median(ess_pymc)),
            "seconds_ours": t_ours, "seconds_pymc_sampling": t_pymc, "seconds_pymc_with_compile": t_total,
            "baseline_kind": "PyMC NUTS (tune = draws), 2 chains, same model and priors"}


# ------------------------------------------------------------------ chains in parallel
def bench_parallel_chains(quick=True):
    """Wall time of a two-chain fit of the paper's simulation: chains as two joblib workers (ours, n_jobs=2) vs
    one after the other in this process (baseline); the draws are identical."""
    from neurodata.bicluster import BiclusterMCMC
    from neurodata.errors import ConvergenceWarning
    from neurosim.groundtruth.bicluster import load_reference_simulation

    y = load_reference_simulation().counts
    n_iter = 60 if quick else 400
    seconds = {}
    for n_jobs in (1, 2):
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # 60 sweeps time the chains; they are not meant to have mixed
            warnings.simplefilter("ignore", ConvergenceWarning)
            BiclusterMCMC(n_iter=n_iter, n_chains=2, n_jobs=n_jobs, seed=0, verbose=False).fit(y)
        seconds[n_jobs] = time.perf_counter() - t0
    return {"name": f"bicluster.two_chain_fit_seconds_{n_iter}_sweeps", "ours": seconds[2], "baseline": seconds[1],
            "baseline_kind": "same two chains one after the other in this process (n_jobs=1)",
            "note": "worker start-up and result transfer included; needs two free cores"}
