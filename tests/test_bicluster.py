"""Tests of the Wei 2023 bi-clustering sampler: unit (exact), ground truth (planted structure), real data."""
import numpy as np
import pytest

from neurodata.bicluster import matching_accuracy, maxpear, coclustering, mfm_prior_num_clusters
from neurodata.errors import InvalidInputError


# ---------------------------------------------------------------- unit
def test_mfm_prior_num_clusters_n30_geometric02():
    p = mfm_prior_num_clusters(30, gamma=1.0, rho=0.2)
    assert abs(p.sum() - 1.0) < 1e-9
    assert round(float((np.arange(1, 31) * p).sum()), 2) == 4.04


def kalman_smoother(y, C, R, A, Q, m0, P0):
    T, D = y.shape[0], A.shape[0]
    mf, Pf, mp, Pp = np.zeros((T, D)), np.zeros((T, D, D)), np.zeros((T, D)), np.zeros((T, D, D))
    for t in range(T):
        mp[t], Pp[t] = (m0, P0) if t == 0 else (A @ mf[t - 1], A @ Pf[t - 1] @ A.T + Q)
        K = Pp[t] @ C.T @ np.linalg.inv(C @ Pp[t] @ C.T + R)
        mf[t] = mp[t] + K @ (y[t] - C @ mp[t])
        Pf[t] = (np.eye(D) - K @ C) @ Pp[t]
    ms = mf.copy()
    for t in range(T - 2, -1, -1):
        G = Pf[t] @ A.T @ np.linalg.inv(Pp[t + 1])
        ms[t] = mf[t] + G @ (ms[t + 1] - mp[t + 1])
    return ms


def test_ffbs_matches_kalman_smoother_means():
    from neurodata.bicluster._kernels import ffbs_information
    rng = np.random.default_rng(0)
    T, D, M = 60, 3, 5
    A = 0.9 * np.linalg.qr(rng.standard_normal((D, D)))[0]
    Q, C, R = 0.1 * np.eye(D), rng.standard_normal((M, D)), 0.5 * np.eye(M)
    x = np.zeros((T, D))
    for t in range(1, T):
        x[t] = A @ x[t - 1] + rng.multivariate_normal(np.zeros(D), Q)
    y = x @ C.T + rng.multivariate_normal(np.zeros(M), R, size=T)
    ms = kalman_smoother(y, C, R, A, Q, np.zeros(D), np.eye(D))
    Rinv = np.linalg.inv(R)
    J = np.tile(C.T @ Rinv @ C, (T, 1, 1))
    h = y @ Rinv @ C
    draws = np.array([ffbs_information(J, h, np.zeros(T, np.int64), A[None], np.zeros((1, D)), Q[None],
                                       np.zeros(D), np.eye(D), rng.standard_normal((T, D)))[0]
                      for _ in range(2000)])
    # Monte Carlo error of a mean of 2000 draws with posterior sd ≤ ~0.4 is < 0.01
    assert np.max(np.abs(draws.mean(0) - ms)) < 0.05
    _, mf = ffbs_information(J, h, np.zeros(T, np.int64), A[None], np.zeros((1, D)), Q[None], np.zeros(D),
                             np.eye(D), np.zeros((T, D)))
    assert np.allclose(mf[-1], ms[-1], atol=1e-8)  # filtered = smoothed at the last bin


def test_kalman_log_marginal_matches_dense_gaussian_integral():
    """The collapsed change-point moves rest on this: the filter's normaliser equals the dense integral
    log ∫ N(x; m, Σ) exp(−½ xᵀJx + hᵀx) dx over the whole path, for a two-state switching model."""
    from neurodata.bicluster._kernels import kalman_log_marginal
    rng = np.random.default_rng(1)
    T, D = 7, 2
    states = np.array([0, 0, 1, 1, 1, 0, 1])
    A = np.stack([0.9 * np.linalg.qr(rng.standard_normal((D, D)))[0], 0.3 * np.eye(D)])
    b = rng.normal(size=(2, D))
    Q = np.stack([0.2 * np.eye(D), np.diag([0.5, 0.1])])
    m0, P0 = rng.normal(size=D), np.eye(D)
    J = np.stack([(lambda B: B @ B.T)(rng.standard_normal((D, D))) for _ in range(T)])
    h = rng.normal(size=(T, D))
    # dense prior of the stacked path: x = F (noise) + mean
    mean, F = np.zeros((T, D)), np.zeros((T, D, T, D))
    mean[0], F[0, :, 0] = m0, np.linalg.cholesky(P0)
    for t in range(1, T):
        s = states[t]
        mean[t] = A[s] @ mean[t - 1] + b[s]
        F[t] = np.einsum("ij,jsk->isk", A[s], F[t - 1])
        F[t, :, t] = np.linalg.cholesky(Q[s])
    F = F.reshape(T * D, T * D)
    Sig, m = F @ F.T, mean.ravel()
    Jd = np.zeros((T * D, T * D))
    for t in range(T):
        Jd[t * D:(t + 1) * D, t * D:(t + 1) * D] = J[t]
    Si = np.linalg.inv(Sig)
    v = h.ravel() + Si @ m
    dense = (0.5 * v @ np.linalg.solve(Si + Jd, v) - 0.5 * m @ Si @ m
             - 0.5 * np.linalg.slogdet(np.eye(T * D) + Sig @ Jd)[1])
    mf, Pf, lz = np.empty((T, D)), np.empty((T, D, D)), np.empty(T)
    full = kalman_log_marginal(J, h, states, A, b, Q, m0, P0, 0, mf, Pf, lz)
    assert abs(full - dense) < 1e-9
    # restarting from a later bin with the cached rows gives the same value
    assert abs(kalman_log_marginal(J, h, states, A, b, Q, m0, P0, 4, mf, Pf, lz) - dense) < 1e-9


def test_segment_birth_death_leaves_collapsed_path_posterior_invariant():
    """Start from exact draws of p(ξ | pseudo-observations) ∝ HMM prior × Kalman marginal (all 3^6 paths of a
    T = 7, L = 3 switching model enumerated); one call of the birth/death moves must keep that distribution:
    run-count distribution and per-bin state marginals within 4.5 Monte Carlo s.e. (dropping the Hastings
    ratio of the moves gives z ≈ 57 here)."""
    import itertools
    from neurodata.bicluster.updates import birth_death_segments, path_log_prior
    from neurodata.bicluster._kernels import kalman_log_marginal
    rng = np.random.default_rng(0)
    T, D, L = 7, 2, 3
    A = np.stack([0.9 * np.eye(D), 0.2 * np.eye(D), -0.5 * np.eye(D)])
    b = 0.3 * rng.normal(size=(L, D))
    Q = np.stack([0.3 * np.eye(D), 0.5 * np.eye(D), 0.2 * np.eye(D)])
    J, h = np.tile(2.0 * np.eye(D), (T, 1, 1)), rng.normal(size=(T, D))
    trans = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    beta = np.array([0.5, 0.3, 0.2])
    m0, P0 = np.zeros(D), np.eye(D)

    def log_target(path):
        mf, Pf, lz = np.empty((T, D)), np.empty((T, D, D)), np.empty(T)
        return kalman_log_marginal(J, h, path, A, b, Q, m0, P0, 0, mf, Pf, lz) + path_log_prior(path, np.log(trans))

    paths = np.array([(x[0],) + x for x in itertools.product(range(L), repeat=T - 1)])  # ξ_0 := ξ_1
    lt = np.array([log_target(x) for x in paths])
    pt = np.exp(lt - lt.max())
    pt /= pt.sum()
    index = {tuple(x): i for i, x in enumerate(paths)}
    n = 20000
    counts, accepted = np.zeros(len(paths)), 0
    for i in rng.choice(len(paths), size=n, p=pt):
        new, acc = birth_death_segments(rng, J, h, paths[i], A, b, Q, m0, P0, trans, beta, 2, max_len=3)
        counts[index[tuple(new)]] += 1
        accepted += acc
    assert accepted > 0.3 * n  # the moves do move
    runs = np.array([1 + np.count_nonzero(np.diff(x[1:])) for x in paths])
    stats = np.concatenate([np.stack([runs == k for k in range(1, T)]),
                            np.stack([paths[:, t] == l for t in range(1, T) for l in range(L)])]).astype(float)
    expect, got = stats @ pt, stats @ (counts / n)
    z = np.abs(got - expect) / np.sqrt(expect * (1 - expect) / n + 1e-12)
    assert z.max() < 4.5, z.max()


def test_windowed_poisson_moves_leave_the_posterior_invariant():
    """Start from exact draws of p(ξ, S | y) of a small Poisson switching model (rejection sampling from the
    prior, T = 8, two states, one neuron); one call of the windowed (ξ, S) Metropolis–Hastings moves, with a
    deliberately poor expansion point η̂, must keep that distribution: per-bin state marginals, the number of
    runs and the latent means within 4.5 Monte Carlo s.e. (measured z ≤ 0.92; always accepting the proposals,
    i.e. dropping the MH correction, gives z ≈ 31)."""
    from neurodata.bicluster.updates import windowed_latents_mh
    rng = np.random.default_rng(1)
    T, D, L = 8, 2, 2
    d, C = np.array([-0.8]), np.array([[1.2]])
    th = 0.6
    A = np.stack([0.2 * np.eye(D), 0.95 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])])
    b, Q = np.zeros((L, D)), np.stack([0.3 * np.eye(D), 0.2 * np.eye(D)])
    trans = np.array([[0.7, 0.3], [0.25, 0.75]])
    Ct = np.column_stack((np.ones(1), C))

    def prior_draws(m):  # ξ_1 uniform, ξ_0 := ξ_1, S_0 ~ N(0, I), as the sampler's model
        xi = np.empty((m, T), dtype=np.int64)
        xi[:, 1] = rng.integers(L, size=m)
        for t in range(2, T):
            xi[:, t] = (rng.random(m) < trans[xi[:, t - 1], 1]).astype(np.int64)
        xi[:, 0] = xi[:, 1]
        S = np.empty((m, T, D))
        S[:, 0] = rng.standard_normal((m, D))
        for t in range(1, T):
            noise = rng.standard_normal((m, D)) * np.sqrt(Q[xi[:, t], 0, 0])[:, None]
            S[:, t] = np.einsum("mij,mj->mi", A[xi[:, t]], S[:, t - 1]) + noise
        return xi, S

    _, S_true = prior_draws(1)
    y = rng.poisson(np.exp(d[:, None] + Ct @ S_true[0].T))
    log_lik_max = np.where(y > 0, y * np.log(np.maximum(y, 1)) - y, 0.0).sum()
    n, xs, Ss = 8000, [], []
    while sum(len(x) for x in xs) < n:
        xi, S = prior_draws(200_000)
        eta = d[None, :, None] + np.einsum("nd,mtd->mnt", Ct, S)
        keep = np.log(rng.random(len(xi))) < (y[None] * eta - np.exp(eta)).sum((1, 2)) - log_lik_max
        xs.append(xi[keep])
        Ss.append(S[keep])
    xi, S = np.concatenate(xs)[:n], np.concatenate(Ss)[:n]
    xi_new, S_new = xi.copy(), S.copy()
    eta_hat = np.log(y + 0.5) + 0.3
    tried = accepted = 0
    for k in range(n):
        t_, a_ = windowed_latents_mh(rng, y, eta_hat, d, np.zeros(1, np.int64), C, S_new[k], xi_new[k], A, b, Q,
                                     trans, 5, 3)
        tried, accepted = tried + t_, accepted + a_
    assert 0.2 < accepted / tried < 0.9  # measured 0.49
    assert (xi_new != xi).any(1).mean() > 0.02  # the state moves do move (measured 0.043)

    def stats(x, s):
        runs = 1 + np.count_nonzero(np.diff(x[:, 1:], axis=1), axis=1)
        return np.concatenate([x[:, 2:] == 1, np.stack([runs == k for k in range(1, 5)], 1),
                               s.reshape(len(s), -1)], 1).astype(float)

    before, after = stats(xi, S), stats(xi_new, S_new)
    z = np.abs(after.mean(0) - before.mean(0)) / np.sqrt(2 * before.var(0) / n + 1e-12)
    assert z.max() < 4.5, z.max()


def test_pg_ffbs_recovers_single_cluster_latents():
    from neurosim.groundtruth.bicluster import simulate_bicluster
    from neurodata.bicluster.sampler import Sampler, Settings
    from scipy.linalg import orthogonal_procrustes
    tr = simulate_bicluster(n_per_cluster=60, n_clusters=1, n_bins=300, seed=3)
    cfg = Settings(p=2, n_states=2, alpha=5., gamma=5., kappa=10., mfm_gamma=1., mfm_rho=.2, likelihood="negbin",
                   dynamics_prior_scale=1e-2, r_prior_shape=1., r_prior_rate=1., new_cluster_q=1e-2, burn_reference=1)
    s = Sampler(tr.counts.T.astype(float), cfg, np.random.default_rng(0))
    st = s.state
    st.d, st.C, st.r, st.states = tr.d.copy(), tr.C.copy(), tr.r.copy(), tr.states.copy()
    st.A[:2], st.Q[:2] = tr.A, tr.Q
    draws = []
    for it in range(150):
        s.step_latents()
        if it >= 50:
            draws.append(st.S.copy())
    est = np.mean(draws, 0)
    est, truth = est - est.mean(0), tr.latents - tr.latents.mean(0)
    R, _ = orthogonal_procrustes(est, truth)
    r = np.corrcoef((est @ R).ravel(), truth.ravel())[0, 1]
    assert r > 0.9, r


def test_dispersion_posterior_mean_near_truth():
    from neurodata.bicluster.updates import sample_dispersion, slice_dispersion
    rng = np.random.default_rng(0)
    N, T = 10, 1000
    eta = rng.normal(1.5, 0.3, (N, T))
    y = rng.negative_binomial(10, 10 / (10 + np.exp(eta))).astype(float)
    r, draws = np.ones(N), []
    for it in range(500):
        r, _ = sample_dispersion(rng, y, eta, r)   # CRT move
        r = slice_dispersion(rng, y, eta, r)
        if it >= 100:
            draws.append(r)
    assert abs(np.mean(draws) - 10.0) / 10.0 < 0.2


def test_split_merge_partition_prior_ratio_is_mfm():
    """With equal latents on both sides the split–merge target ratio is the MFM partition-prior ratio
    V_n(t+1) γ^(a) γ^(b) / (V_n(t) γ^(a+b)) (rising factorials), computed here from its definition."""
    from math import lgamma
    from neurodata.bicluster.mfm import mfm_log_v
    from neurodata.bicluster.sampler import Sampler, Settings
    rng = np.random.default_rng(0)
    y = rng.poisson(2.0, (12, 40)).astype(float)
    cfg = Settings(p=2, n_states=2, alpha=5., gamma=5., kappa=10., mfm_gamma=1.5, mfm_rho=.2, likelihood="negbin",
                   dynamics_prior_scale=1e-2, r_prior_shape=1., r_prior_rate=1., new_cluster_q=1e-2, burn_reference=1)
    s = Sampler(y, cfg, rng)
    S = rng.normal(size=(40, 3))
    a, b = np.arange(5), np.arange(5, 12)
    log_v = mfm_log_v(12, 1.5, 0.2)
    rf = lambda n: lgamma(1.5 + n) - lgamma(1.5)  # log γ^(n)
    for t in (1, 2, 4):
        expect = log_v[t] - log_v[t - 1] + rf(5) + rf(7) - rf(12)
        assert abs(s._split_log_target(a, b, S, S, S, t) - expect) < 1e-9


def test_maxpear_and_accuracy():
    draws = np.array([[0, 0, 1, 1, 2], [0, 0, 1, 1, 1], [0, 0, 1, 1, 2]])
    best, score = maxpear(coclustering(draws), draws)
    assert matching_accuracy([0, 0, 1, 1, 2], best) == 1.0 and score > 0.5


def test_maxpear_returns_one_cluster_when_the_posterior_does():
    """#26: with P(K = 1) = 0.97 and every pair co-clustered >= 0.967, plain PEAR (0 for the one-block labelling
    by construction) split off a neuron; the one-block labelling is now scored by its exact expected ARI."""
    from sklearn.metrics import adjusted_rand_score
    n = 30
    draws = np.zeros((100, n), dtype=int)
    for j in range(3):
        draws[j, j] = 1  # three draws split one neuron off
    best, score = maxpear(coclustering(draws), draws)
    assert np.unique(best).size == 1 and score == pytest.approx(0.97)
    assert score == pytest.approx(np.mean([adjusted_rand_score(best, z) for z in draws]))
    # a posterior that really splits keeps the split, and no draws means no one-block shortcut
    two = np.tile(np.repeat([0, 1], n // 2), (100, 1))
    two[:10] = 0
    best, _ = maxpear(coclustering(two), two)
    assert np.unique(best).size == 2
    best, _ = maxpear(coclustering(draws))
    assert np.unique(best).size > 1


def test_convergence_table_and_warning():
    """#24: bulk ESS and R-hat per quantity from ArviZ; two chains that disagree warn, naming the knob; one chain
    has no R-hat and no warning (warnings are errors here)."""
    import arviz as az
    from neurodata.bicluster import BiclusterMCMC
    from neurodata.errors import ConvergenceWarning
    from neurosim.groundtruth.bicluster import load_reference_simulation
    y = load_reference_simulation().counts[:100]
    with pytest.warns(ConvergenceWarning, match=r"R-hat \d\.\d+ for '\w+', above 1.05\): raise n_iter"):
        m = BiclusterMCMC(n_iter=30, burn_in=10, thin=2, n_chains=2, seed=3).fit(y)
    table = m.convergence_
    assert {"r", "d", "log_lik", "log_rate"} <= set(table.index)
    assert table.loc["log_rate", "entries"] == 100 * 30
    assert table.loc["log_lik", "r_hat_max"] > 1.05
    ess = az.ess(m.inference_data_, var_names=["d"], method="bulk")["d"].values
    assert table.loc["d", "ess_bulk_min"] == pytest.approx(ess.min())
    one = BiclusterMCMC(n_iter=30, burn_in=10, thin=2, n_chains=1, seed=3).fit(y)
    assert one.convergence_["r_hat_max"].isna().all()


def test_bad_input_raises():
    from neurodata.bicluster import BiclusterMCMC
    with pytest.raises(InvalidInputError, match="non-negative integers"):
        BiclusterMCMC(n_iter=5).fit(np.full((10, 3), 0.5))
    with pytest.raises(InvalidInputError, match="no spikes"):
        BiclusterMCMC(n_iter=5).fit(np.c_[np.ones((10, 2)), np.zeros(10)])
    with pytest.raises(InvalidInputError, match="likelihood"):
        BiclusterMCMC(n_iter=5, likelihood="gauss").fit(np.ones((10, 3)))
    with pytest.raises(InvalidInputError, match="checkpoint needs the chains run in this process"):
        BiclusterMCMC(n_iter=5, n_jobs=2, checkpoint="ck.pkl").fit(np.ones((10, 3)))


@pytest.mark.filterwarnings("ignore::neurodata.errors.ConvergenceWarning")  # 30 sweeps: the chains disagree
def test_parallel_chains_give_the_serial_draws():
    """Chains run as joblib tasks (n_jobs=2) keep their own random streams: the draws equal a serial fit's."""
    from neurodata.bicluster import BiclusterMCMC
    from neurosim.groundtruth.bicluster import simulate_bicluster
    y = simulate_bicluster(seed=0, n_bins=120).counts
    fits = [BiclusterMCMC(n_iter=30, burn_in=10, thin=2, n_chains=2, n_jobs=n, seed=3, verbose=False).fit(y)
            for n in (1, 2)]
    for key in ("states", "labels", "r", "d"):
        for serial, parallel in zip(fits[0].chains_, fits[1].chains_):
            assert all(np.array_equal(a, b) for a, b in zip(serial.kept(key), parallel.kept(key))), key
    assert np.array_equal(fits[0].states_, fits[1].states_)


@pytest.mark.filterwarnings("ignore::neurodata.errors.ConvergenceWarning")  # 30 sweeps: the chains disagree
def test_checkpoint_resume_reproduces_an_uninterrupted_fit(tmp_path, monkeypatch):
    """A fit killed in its second chain and resumed from the checkpoint gives the draws of an uninterrupted fit
    (the checkpoint holds each chain's random stream as well as its state)."""
    from neurodata.bicluster import BiclusterMCMC
    from neurodata.bicluster.sampler import Sampler
    from neurosim.groundtruth.bicluster import simulate_bicluster
    y = simulate_bicluster(seed=0, n_bins=120).counts
    kw = dict(n_iter=30, burn_in=10, thin=2, n_chains=2, seed=5, verbose=False)
    whole = BiclusterMCMC(**kw).fit(y)
    ck = tmp_path / "chain.pkl"
    sweep, calls = Sampler.sweep, []

    def dies_in_chain_two(self):
        calls.append(1)
        if len(calls) == 30 + 17:
            raise KeyboardInterrupt
        sweep(self)

    monkeypatch.setattr(Sampler, "sweep", dies_in_chain_two)
    with pytest.raises(KeyboardInterrupt):
        BiclusterMCMC(checkpoint=str(ck), checkpoint_every=5, **kw).fit(y)
    monkeypatch.setattr(Sampler, "sweep", sweep)
    resumed = BiclusterMCMC(checkpoint=str(ck), checkpoint_every=5, resume=True, **kw).fit(y)
    for key in ("states", "labels", "r"):
        for a, b in zip(whole.chains_, resumed.chains_):
            assert all(np.array_equal(u, v) for u, v in zip(a.kept(key), b.kept(key))), key
    # a checkpoint left on disk is another fit's (or not a checkpoint at all): a fresh fit refuses to replace it
    from neurodata.errors import OutputExistsError
    before = ck.read_bytes()
    with pytest.raises(OutputExistsError, match="resume=True"):
        BiclusterMCMC(checkpoint=str(ck), checkpoint_every=5, **kw).fit(y)
    assert ck.read_bytes() == before


# ---------------------------------------------------------------- ground truth (paper's simulation)
def _acc_ari(model, tr):
    from sklearn.metrics import adjusted_rand_score
    return matching_accuracy(tr.states, model.states_), adjusted_rand_score(tr.labels, model.labels_)


_FITS = {}


def _fit(draw, likelihood, **kw):
    """One fit per configuration, shared by the tests below (module-level cache: the fits dominate the cost).
    ``draw="paper"`` is the paper's own draw (load_reference_simulation), an int the seed of a simulate_bicluster
    draw; ``kw`` overrides the sampler settings (``seed`` is the sampler's)."""
    from neurodata.bicluster import BiclusterMCMC
    from neurosim.groundtruth.bicluster import load_reference_simulation, simulate_bicluster
    cfg = dict(n_iter=300, burn_in=100, thin=2, n_chains=1, seed=0)
    cfg.update(kw)
    key = (draw, likelihood, tuple(sorted(cfg.items())))
    if key not in _FITS:
        tr = load_reference_simulation() if draw == "paper" else simulate_bicluster(seed=draw)
        m = BiclusterMCMC(likelihood=likelihood, verbose=False, **cfg).fit(tr.counts)
        _FITS[key] = (m, tr)
    return _FITS[key]


def test_reference_simulation_is_the_papers_draw():
    """The stored draw is the one in the reference code's notebook: its true change points agree within 2.5 bins
    with those read off the notebook's true-state raster (sim_NB_results.ipynb, 334 pixels for 500 bins), and the
    stored rates explain the counts."""
    from neurosim.groundtruth.bicluster import load_reference_simulation
    tr = load_reference_simulation()
    assert tr.counts.shape == (500, 30) and np.bincount(tr.labels).tolist() == [10, 10, 10]
    change_points = np.flatnonzero(np.diff(tr.states)) + 1
    from_figure = [21.0, 71.9, 113.8, 170.7, 215.6, 268.0, 317.4, 360.8, 426.6, 477.5]
    assert change_points.size == 10 and np.abs(change_points - from_figure).max() <= 2.5, change_points
    assert abs(np.exp(tr.log_rate).mean() - tr.counts.mean()) < 0.05


def test_reference_simulation_missing_file_is_a_data_file_error(monkeypatch, tmp_path):
    from neurodata.errors import DataFileError
    from neurosim.groundtruth import bicluster as gt
    monkeypatch.setattr(gt, "REFERENCE_SIMULATION", tmp_path / "absent.npz")
    with pytest.raises(DataFileError, match="absent.npz"):
        gt.load_reference_simulation()


# The paper's own draw, where the reference code reports state accuracy 0.954 after 10,000 iterations; run here for
# 1000 iterations on the same draw, the reference code itself gives 0.924 (its state draws after a quarter burn-in,
# through this module's maxPEAR). A chain's path depends on the CPU's floating-point details (BLAS threads, vector
# width), so a number from one sampler seed is a draw from the spread over seeds: the tests hold over five sampler
# seeds. Measured on a 2-core AMD EPYC at the 300-sweep budget, sampler seeds 0-4 (one BLAS thread):
#   NB      state accuracy 0.904 0.946 0.920 0.902 0.900 (mean 0.914), ARI 1.0 and mode K = 3 on every seed;
#   Poisson state accuracy 0.914 0.926 0.910 0.900 0.912 (mean 0.912), ARI 0.951 0.951 0.848 0.951 0.859
#           (mode K = 4: the Poisson model cannot absorb the overdispersion and splits off a fourth cluster).
# The guards below sit under that spread. #24's target (>= 0.93 on every seed) is not met yet: it is a strict xfail,
# so a sampler that reaches it turns the xfail into a failure that asks for the guard to be raised.
SAMPLER_SEEDS = range(5)


def _paper_seed_fits(likelihood):
    from sklearn.metrics import adjusted_rand_score
    out = []
    for seed in SAMPLER_SEEDS:
        m, tr = _fit("paper", likelihood, seed=seed)
        out.append((matching_accuracy(tr.states, m.states_), adjusted_rand_score(tr.labels, m.labels_),
                    m.n_clusters_mode_))
    return np.array(out)


def test_paper_draw_negbin_across_sampler_seeds():
    """NB, 300 sweeps, five sampler seeds: neuron ARI >= 0.9 and posterior mode K = 3 on every seed; state
    accuracy mean >= 0.89 and worst >= 0.85 (measured mean 0.914, worst 0.900)."""
    res = _paper_seed_fits("negbin")
    acc, ari, k = res.T
    assert np.all(ari >= 0.9) and np.all(k == 3), res
    assert acc.mean() >= 0.89 and acc.min() >= 0.85, res


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="#24: NB state accuracy >= 0.93 on every sampler seed is not reached yet (mean 0.914 over "
                          "seeds 0-4 at 300 sweeps)")
def test_paper_draw_negbin_issue_target_every_seed():
    acc = _paper_seed_fits("negbin")[:, 0]
    assert np.all(acc >= 0.93), acc


def test_paper_draw_poisson_across_sampler_seeds():
    """Poisson likelihood on the same NB counts, 300 sweeps, five sampler seeds: state accuracy mean >= 0.88 and
    worst >= 0.85, neuron ARI mean >= 0.88 and worst >= 0.8 (measured mean 0.912, worst 0.900; ARI mean 0.912, worst
    0.848)."""
    res = _paper_seed_fits("poisson")
    acc, ari, _ = res.T
    assert acc.mean() >= 0.88 and acc.min() >= 0.85, res
    assert ari.mean() >= 0.88 and ari.min() >= 0.8, res


@pytest.mark.slow
@pytest.mark.parametrize("likelihood,n_chains,min_acc", [("negbin", 1, 0.93), ("negbin", 4, 0.93),
                                                         ("poisson", 4, 0.9)])
def test_paper_draw_long_chains(likelihood, n_chains, min_acc):
    """1000-sweep chains on the paper's draw. Measured NB: one chain 0.938 (sampler seeds 1-3: 0.922, 0.924,
    0.930), four pooled chains 0.932; Poisson: four pooled chains 0.906 (single chains 0.880 and 0.904).
    ARI 1.0 and mode K = 3 in all of them."""
    m, tr = _fit("paper", likelihood, n_iter=1000, burn_in=250, thin=5, n_chains=n_chains, n_jobs=min(n_chains, 2))
    acc, ari = _acc_ari(m, tr)
    assert acc >= min_acc and ari >= 0.9 and m.n_clusters_mode_ == 3, (acc, ari, m.n_clusters_posterior_)


def test_initial_labels_find_the_planted_clusters():
    """The chain rarely splits a merged cluster or merges two halves, so the start's number of clusters matters:
    on simulate_bicluster seeds 0–5 the k-subspaces start finds the three clusters (silhouette k-means merged two
    of them on seeds 1–3). Measured ARI 1.0 on seeds 0–10 (0.73 on 11, 0.55 on 12)."""
    from sklearn.metrics import adjusted_rand_score
    from neurodata.bicluster.estimator import initial_labels
    from neurosim.groundtruth.bicluster import simulate_bicluster
    for seed in range(6):
        tr = simulate_bicluster(seed=seed)
        lab = initial_labels(tr.counts.T.astype(float), "auto", np.random.default_rng(0))
        assert np.unique(lab).size == 3 and adjusted_rand_score(tr.labels, lab) >= 0.9, seed


# Other draws of the same simulation (simulate_bicluster: the paper's model and settings, our own generator).
# State accuracy varies from draw to draw: where the first bins of a rotating segment carry small latents, the
# posterior itself places the change point late. Regression guards sit just under the measured values.
def test_simulator_draw_neuron_clusters_and_number():
    """simulate_bicluster(seed=0), 300 sweeps: neuron ARI >= 0.9 and posterior mode K = 3 (measured ARI 1.0,
    K = 3 with mass 1.0)."""
    m, tr = _fit(0, "negbin")
    acc, ari = _acc_ari(m, tr)
    assert ari >= 0.9, (acc, ari)
    assert m.n_clusters_mode_ == 3, m.n_clusters_posterior_


# Measured (300 sweeps, burn-in 100, thin 2, sampler seed 0): NB state accuracy 0.894 on seed 0 (0.930 with
# sampler seed 1; over data seeds 0–5 and sampler seeds 0–1 the mean is 0.91, range 0.87–0.95); Poisson 0.868,
# ARI 1.0 (seed 0; 0.848 before the windowed Poisson moves).
@pytest.mark.parametrize("likelihood,min_acc,min_ari", [("negbin", 0.88, 0.9), ("poisson", 0.85, 0.9)])
def test_simulator_draw_states_measured(likelihood, min_acc, min_ari):
    m, tr = _fit(0, likelihood)
    acc, ari = _acc_ari(m, tr)
    assert acc >= min_acc and ari >= min_ari, (acc, ari)


# Long chains (1000 sweeps, burn-in 250, thin 5, sampler seed 0) on data seeds 0-6. Measured NB state accuracy
# 0.902, 0.844, 0.962, 0.936, 0.950, 0.944, 0.858; ARI 1.0 and K = 3 (mass >= 0.99) on every seed.
_LONG_NB = {0: 0.902, 1: 0.844, 2: 0.962, 3: 0.936, 4: 0.950, 5: 0.944, 6: 0.858}


@pytest.mark.slow
@pytest.mark.parametrize("seed", sorted(_LONG_NB))
def test_simulator_draws_long_chains(seed):
    """Per data seed: ARI >= 0.9 and mode K = 3 always; state accuracy >= 0.93 on the seeds where it was
    measured (2-5); on the others (0, 1, 6) the posterior sits below it and the test is an expected failure
    at its measured value."""
    m, tr = _fit(seed, "negbin", n_iter=1000, burn_in=250, thin=5)
    acc, ari = _acc_ari(m, tr)
    assert ari >= 0.9 and m.n_clusters_mode_ == 3, (acc, ari, m.n_clusters_posterior_)
    if _LONG_NB[seed] < 0.93:
        assert acc < 0.93, acc  # measured below 0.93 on this draw (see _LONG_NB)
        pytest.xfail(f"state accuracy {acc:.3f} < 0.93 on seed {seed} (measured {_LONG_NB[seed]})")
    assert acc >= 0.93, acc


@pytest.mark.slow
def test_simulator_draw_long_chain_poisson():
    """Poisson likelihood, 1000 sweeps, seed 0: measured 0.908, ARI 0.951 (mode K = 4). Sampler seeds 1, 2, 3
    give 0.908, 0.916, 0.858; data seeds 1, 2, 3 give 0.862, 0.934, 0.890. Before the windowed moves (NB(100)
    Pólya-Gamma proposals alone) seed 0 gave 0.854."""
    m, tr = _fit(0, "poisson", n_iter=1000, burn_in=250, thin=5)
    acc, ari = _acc_ari(m, tr)
    assert acc >= 0.9 and ari >= 0.9, (acc, ari)


@pytest.mark.slow
def test_simulator_draw_pooled_chains():
    """Four 1000-sweep NB chains (two joblib workers) pooled on seed 0: measured 0.928 with two states, ARI 1.0,
    mode K = 3; the single chains of sampler seeds 0-3 give 0.834-0.902 and the oracle with the true loadings,
    r and labels 0.922 (8 x 1000 sweeps: 0.918; 4 x 2500: 0.888, where longer chains visit a third state)."""
    m, tr = _fit(0, "negbin", n_iter=1000, burn_in=250, thin=5, n_chains=4, n_jobs=2)
    acc, ari = _acc_ari(m, tr)
    assert acc >= 0.92 and ari >= 0.9 and m.n_clusters_mode_ == 3, (acc, ari, m.n_clusters_posterior_)


# ---------------------------------------------------------------- real data + CLI
def test_real_recording_cli_writes_results(testdata, tmp_path):
    from neurodata.cli import main
    from neurodata.io import read_results
    import neurodata.cli as ncli
    if "neurodata.bicluster.cli" not in ncli.SUBCOMMAND_MODULES:
        ncli.SUBCOMMAND_MODULES.append("neurodata.bicluster.cli")
    from neurodata.errors import ConvergenceWarning
    out = tmp_path / "bc.nwb"
    with pytest.warns(ConvergenceWarning, match="R-hat"):  # 12 sweeps of two chains: the user is told
        code = main(["bicluster", str(testdata / "nwb" / "spikes_A8604-211122.nwb"), "--bin-size", "2.0",
                     "--n-iterations", "12", "--thin", "2", "--n-chains", "2", "--out", str(out),
                     "--figure", str(out.with_suffix(".png")), "--quiet"])
    assert code == 0 and out.exists() and out.with_suffix(".png").exists()
    res = read_results(out)
    assert res.analysis == "bicluster"
    assert res.arrays["labels"].size == 3
    assert res.arrays["coclustering_neurons"].shape == (3, 3)
