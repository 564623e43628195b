"""Cross-check of the bi-clustering sampler against PyMC's NUTS on the model with labels, states and dynamics fixed.

One cluster of N neurons, latents [μ; x] (p = 1) with fixed linear dynamics, NB counts. Both samplers target
p(S, d, c, r | y): ours by PG-FFBS for S, PG-Gaussian for (d, c) and CRT/slice for r (the same sweep code the
estimator runs), PyMC by NUTS on the same density written independently. Compared are quantities free of the
model's sign symmetry (c, x) → (−c, −x): the dispersions r_i, the log rates η_it and the differences d_i − d_0.
"""
import warnings

import numpy as np

N, T, A_COEF, Q_VAR = 5, 40, 0.95, 0.05


def _simulate(seed=4):
    rng = np.random.default_rng(seed)
    S = np.zeros((T, 2))
    S[0] = rng.standard_normal(2)
    for t in range(1, T):
        S[t] = A_COEF * S[t - 1] + np.sqrt(Q_VAR) * rng.standard_normal(2)
    d = rng.normal(0.8, 0.3, N)
    c = rng.normal(0.0, 0.7, N)
    eta = d[:, None] + S[:, 0][None, :] + c[:, None] * S[:, 1][None, :]
    r = np.full(N, 6.0)
    y = rng.negative_binomial(r[:, None], r[:, None] / (r[:, None] + np.exp(eta)))
    return y.astype(float)


def _ours(y, n_iter, n_chains, burn):
    from neurodata.bicluster.sampler import Sampler, Settings

    cfg = Settings(p=1, n_states=1, alpha=5., gamma=5., kappa=10., mfm_gamma=1., mfm_rho=.2, likelihood="negbin",
                   dynamics_prior_scale=Q_VAR, r_prior_shape=1., r_prior_rate=1., new_cluster_q=Q_VAR,
                   burn_reference=0)
    out = []
    for chain in range(n_chains):
        s = Sampler(y, cfg, np.random.default_rng(100 + chain))
        st = s.state
        st.states[:] = 0
        st.A[:] = A_COEF * np.eye(2)
        st.b[:] = 0.0
        st.Q[:] = Q_VAR * np.eye(2)
        draws = {"r": [], "eta": [], "dd": []}
        for it in range(n_iter):
            pseudo_obs = s.step_latents()
            s.step_loadings(pseudo_obs=pseudo_obs)
            s.step_dispersion()
            if it >= burn:
                draws["r"].append(st.r.copy())
                draws["eta"].append(st.d[:, None] + st.S[:, 0][None, :] + st.C[:, :1] * st.S[:, 1][None, :])
                draws["dd"].append(st.d[1:] - st.d[0])
        out.append({k: np.array(v) for k, v in draws.items()})
    return {k: np.stack([o[k] for o in out]) for k in out[0]}


def _pymc(y, draws, chains, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pymc as pm
        import pytensor.tensor as pt

        # S = M Z with Z ~ N(0, I): x_0 ~ N(0, 1), x_t = a x_{t-1} + N(0, q) (the sampler's m0 = 0, P0 = I)
        t = np.arange(T)
        M = np.tril(A_COEF ** (t[:, None] - t[None, :]).clip(0))
        M[:, 1:] *= np.sqrt(Q_VAR)
        with pm.Model():
            z = pm.Normal("z", 0.0, 1.0, shape=(T, 2))
            S = pt.dot(M, z)
            d = pm.Normal("d", 0.0, 1.0, shape=N)
            c = pm.Normal("c", 0.0, 1.0, shape=N)
            r = pm.Gamma("r", alpha=1.0, beta=1.0, shape=N)
            eta = pm.Deterministic("eta", d[:, None] + S[:, 0][None, :] + c[:, None] * S[:, 1][None, :])
            pm.Deterministic("dd", d[1:] - d[0])
            pm.NegativeBinomial("y", mu=pt.exp(eta), alpha=r[:, None], observed=y)
            idata = pm.sample(draws=draws, tune=600, chains=chains, cores=1, random_seed=seed,
                              progressbar=False, target_accept=0.9, compute_convergence_checks=False)
    post = idata.posterior
    return {k: post[k].values for k in ("r", "eta", "dd")}


def _mean_sd_ess(x):
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flat = x.reshape(x.shape[0], x.shape[1], -1)
        ess = np.array([az.ess(flat[:, :, j]) for j in range(flat.shape[2])], dtype=float).ravel()
    return flat.mean((0, 1)), flat.std((0, 1)), ess


def test_posterior_means_agree_with_pymc_nuts():
    y = _simulate()
    ours = _ours(y, n_iter=2000, n_chains=2, burn=300)
    ref = _pymc(y, draws=600, chains=2)
    eta_cols = (slice(None), slice(None), slice(None, None, 8))  # every 8th bin keeps the check short
    for name in ("r", "dd", "eta"):
        a, b = ours[name], ref[name]
        if name == "eta":
            a, b = a[eta_cols], b[eta_cols]
        ma, sa, ea = _mean_sd_ess(a)
        mb, sb, eb = _mean_sd_ess(b)
        assert np.all(ea > 50) and np.all(eb > 50), (name, ea.min(), eb.min())
        # Monte Carlo standard error of the difference of two independent posterior-mean estimates
        se = np.sqrt(sa ** 2 / ea + sb ** 2 / eb)
        z = np.abs(ma - mb) / se
        # 4.5 standard errors over ≤ 30 compared means: a false alarm has probability < 1e-4
        assert np.all(z < 4.5), (name, z.max(), ma, mb)
        # and the posterior spreads agree (a wrong conditional shows up there first)
        assert np.all(np.abs(sa / sb - 1.0) < 0.25), (name, sa / sb)
