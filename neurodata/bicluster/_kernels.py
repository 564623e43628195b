"""Numba kernels for the inner loops over time bins (Kalman filtering, HMM messages, CRT draws).

Random numbers are drawn by the caller's ``numpy.random.Generator`` and passed in, so a chain is
reproducible from its seed and resumable from a checkpoint.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _spd_inverse(P, out, L, Li):
    """out = P⁻¹ for a small symmetric positive-definite P by a hand-written Cholesky (no allocation);
    L receives the Cholesky factor and Li its inverse. Returns log det P."""
    D = P.shape[0]
    for j in range(D):
        s = P[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if s <= 0.0:
            raise np.linalg.LinAlgError("matrix is not positive definite")
        d = np.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, D):
            s = P[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / d
        for i in range(j):
            L[i, j] = 0.0
    logdet = 0.0
    for j in range(D):
        logdet += 2.0 * np.log(L[j, j])
    for j in range(D):  # lower-triangular inverse, column by column
        for i in range(D):
            Li[i, j] = 0.0
        Li[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, D):
            s = 0.0
            for k in range(j, i):
                s -= L[i, k] * Li[k, j]
            Li[i, j] = s / L[i, i]
    for i in range(D):  # out = Liᵀ Li
        for j in range(i, D):
            s = 0.0
            for k in range(j, D):
                s += Li[k, i] * Li[k, j]
            out[i, j] = s
            out[j, i] = s
    return logdet


@njit(cache=True)
def _predict(A, b, m, P, Q, m_out, P_out, tmp):
    """m_out = A m + b, P_out = A P Aᵀ + Q (small dense matrices, preallocated outputs)."""
    D = A.shape[0]
    for i in range(D):
        s = b[i]
        for k in range(D):
            s += A[i, k] * m[k]
        m_out[i] = s
        for j in range(D):
            s = 0.0
            for k in range(D):
                s += A[i, k] * P[k, j]
            tmp[i, j] = s
    for i in range(D):
        for j in range(i, D):
            s = Q[i, j]
            for k in range(D):
                s += tmp[i, k] * A[j, k]
            P_out[i, j] = s
            P_out[j, i] = s


@njit(cache=True)
def _matvec(M, v, out):
    D = M.shape[0]
    for i in range(D):
        s = 0.0
        for k in range(M.shape[1]):
            s += M[i, k] * v[k]
        out[i] = s


@njit(cache=True)
def _filter_step(t, J, h, m_p, P_p, mf, Pf, Jf, Jp, L, Li, hh):
    """Condition the prediction N(m_p, P_p) on the information (J[t], h[t]); writes mf[t], Pf[t] (and Jf[t]
    when Jf has rows). Returns the log normaliser log ∫ N(x; m_p, P_p) exp(−½ xᵀJ x + hᵀx) dx."""
    D = h.shape[1]
    logdet_p = _spd_inverse(P_p, Jp, L, Li)
    _matvec(Jp, m_p, hh)
    quad_p = 0.0
    for i in range(D):
        quad_p += m_p[i] * hh[i]
        hh[i] += h[t, i]
    Jt = P_p  # reuse the buffer: P_p is no longer needed
    for i in range(D):
        for j in range(D):
            Jt[i, j] = Jp[i, j] + 0.5 * (J[t, i, j] + J[t, j, i])
    if Jf.shape[0] > 0:
        Jf[t] = Jt
    logdet_t = _spd_inverse(Jt, Pf[t], L, Li)
    _matvec(Pf[t], hh, mf[t])
    quad = 0.0
    for i in range(D):
        quad += hh[i] * mf[t, i]
    return 0.5 * quad - 0.5 * quad_p - 0.5 * logdet_p - 0.5 * logdet_t


@njit(cache=True)
def ffbs_information(J, h, states, A, b, Q, m0, P0, z):
    """Forward-filter backward-sample a linear-Gaussian state space model in information form.

    Observations enter only through ``J[t] = Cᵀ R_t⁻¹ C`` and ``h[t] = Cᵀ R_t⁻¹ y_t`` (T, D, D) and (T, D).
    x_0 ~ N(m0, P0) then x_t = A[s_t] x_{t-1} + b[s_t] + N(0, Q[s_t]) for t ≥ 1.
    ``z`` (T, D) are standard normal draws. Returns the sample (T, D) and the filtered means (T, D).
    """
    T, D = h.shape
    mf = np.empty((T, D))
    Pf = np.empty((T, D, D))
    Jf = np.empty((T, D, D))  # filtered precisions
    m_p, hh, v = np.empty(D), np.empty(D), np.empty(D)
    P_p, Jp, L, Li, tmp = (np.empty((D, D)), np.empty((D, D)), np.empty((D, D)), np.empty((D, D)),
                           np.empty((D, D)))
    for t in range(T):
        if t == 0:
            m_p[:] = m0
            P_p[:, :] = P0
        else:
            s = states[t]
            _predict(A[s], b[s], mf[t - 1], Pf[t - 1], Q[s], m_p, P_p, tmp)
        _filter_step(t, J, h, m_p, P_p, mf, Pf, Jf, Jp, L, Li, hh)
    x = np.empty((T, D))
    Qi = np.empty((D, D))
    AtQi = np.empty((D, D))
    Jc = np.empty((D, D))
    Pc = np.empty((D, D))
    _spd_inverse(Pf[T - 1], Jp, L, Li)  # only the factor is needed: L Lᵀ = Pf[T-1]
    for i in range(D):
        s = mf[T - 1, i]
        for k in range(i + 1):
            s += L[i, k] * z[T - 1, k]
        x[T - 1, i] = s
    for t in range(T - 2, -1, -1):
        s_ = states[t + 1]
        _spd_inverse(Q[s_], Qi, L, Li)
        for i in range(D):  # AtQi = Aᵀ Q⁻¹
            for j in range(D):
                acc = 0.0
                for k in range(D):
                    acc += A[s_, k, i] * Qi[k, j]
                AtQi[i, j] = acc
        for i in range(D):  # Jc = Jf[t] + Aᵀ Q⁻¹ A
            for j in range(D):
                acc = Jf[t, i, j]
                for k in range(D):
                    acc += AtQi[i, k] * A[s_, k, j]
                Jc[i, j] = acc
        for i in range(D):  # v = Jf[t] mf[t] + Aᵀ Q⁻¹ (x[t+1] − b)
            acc = 0.0
            for k in range(D):
                acc += Jf[t, i, k] * mf[t, k] + AtQi[i, k] * (x[t + 1, k] - b[s_, k])
            v[i] = acc
        for i in range(D):
            for j in range(i + 1, D):
                avg = 0.5 * (Jc[i, j] + Jc[j, i])
                Jc[i, j] = avg
                Jc[j, i] = avg
        _spd_inverse(Jc, Pc, L, Li)
        # x[t] = Pc v + Lc⁻ᵀ z with Lc the Cholesky factor of Jc (then Cov = Jc⁻¹)
        for i in range(D):
            acc = 0.0
            for k in range(D):
                acc += Pc[i, k] * v[k]
            for k in range(i, D):
                acc += Li[k, i] * z[t, k]
            x[t, i] = acc
    return x, mf


@njit(cache=True)
def hmm_sample_states(loglik, log_pi0, log_P, u):
    """Sample a discrete state path by forward filtering, backward sampling.

    ``loglik`` (n, L) per-step log-likelihoods, ``log_pi0`` (L,) initial log-probabilities, ``log_P`` (L, L)
    log transition matrix, ``u`` (n,) uniforms. Returns the path (n,) and the log marginal likelihood.
    """
    n, L = loglik.shape
    alpha = np.empty((n, L))
    P = np.exp(log_P)
    lognorm = 0.0
    a = log_pi0 + loglik[0]
    mx = a.max()
    w = np.exp(a - mx)
    tot = w.sum()
    alpha[0] = w / tot
    lognorm += mx + np.log(tot)
    for t in range(1, n):
        pred = alpha[t - 1] @ P
        mx = loglik[t].max()
        w = pred * np.exp(loglik[t] - mx)
        tot = w.sum()
        alpha[t] = w / tot
        lognorm += mx + np.log(tot)
    path = np.empty(n, dtype=np.int64)
    w = alpha[n - 1]
    path[n - 1] = _categorical(w / w.sum(), u[n - 1])
    for t in range(n - 2, -1, -1):
        w = alpha[t] * P[:, path[t + 1]]
        path[t] = _categorical(w / w.sum(), u[t])
    return path, lognorm


@njit(cache=True)
def _categorical(p, u):
    c = 0.0
    for k in range(p.shape[0]):
        c += p[k]
        if u < c:
            return k
    return p.shape[0] - 1


@njit(cache=True)
def crt_row_sums(y, r, u_pool):
    """Sum over columns of Chinese-restaurant-table draws CRT(y[i, t], r[i]) for each row i.

    CRT(y, r) = Σ_{j<y} Bernoulli(r / (r + j)). ``u_pool`` holds at least y.sum() uniforms.
    """
    N, T = y.shape
    out = np.zeros(N, dtype=np.int64)
    k = 0
    for i in range(N):
        ri = r[i]
        for t in range(T):
            for j in range(y[i, t]):
                if u_pool[k] < ri / (ri + j):
                    out[i] += 1
                k += 1
    return out


@njit(cache=True)
def crt_counts(n, conc, u_pool):
    """CRT(n[j, k], conc[j, k]) for a matrix of counts (transition-count auxiliaries of the HDP)."""
    J, K = n.shape
    out = np.zeros((J, K), dtype=np.int64)
    m = 0
    for j in range(J):
        for k in range(K):
            for i in range(n[j, k]):
                if u_pool[m] < conc[j, k] / (conc[j, k] + i):
                    out[j, k] += 1
                m += 1
    return out


@njit(cache=True)
def assemble_information(omega, resid, labels, C, K):
    """J[t] = Σ_i ω_it c̃_i c̃_iᵀ and h[t] = Σ_i c̃_i resid_it with c̃_i = [1, c_i] on its cluster's block.

    J is block diagonal (each neuron loads on one cluster), so only the blocks are accumulated.
    """
    N, T = omega.shape
    P = C.shape[1] + 1
    D = K * P
    J = np.zeros((T, D, D))
    h = np.zeros((T, D))
    ct = np.empty(P)
    for i in range(N):
        o = labels[i] * P
        ct[0] = 1.0
        ct[1:] = C[i]
        for t in range(T):
            w = omega[i, t]
            g = resid[i, t]
            for a in range(P):
                h[t, o + a] += ct[a] * g
                wa = w * ct[a]
                for c in range(P):
                    J[t, o + a, o + c] += wa * ct[c]
    return J, h


@njit(cache=True)
def laplace_pairs(y, d, r, lat, rows, cols, poisson, n_iter):
    """Laplace log marginal of neuron rows[m] under latent lat[cols[m]] with c ~ N(0, I) integrated out.

    lat (K, p+1, T): [μ; x] per candidate latent; log mean = d_i + μ_t + cᵀ x_t. Terms that depend on y and r
    alone are dropped. Damped Newton on the (concave) log posterior of c.
    """
    M = rows.shape[0]
    T = y.shape[1]
    p = lat.shape[1] - 1
    out = np.empty(M)
    for m in range(M):
        i = rows[m]
        k = cols[m]
        ri = r[i]
        logr = np.log(ri)
        c = np.zeros(p)
        H = np.zeros((p, p))
        stop = n_iter
        for it in range(n_iter + 1):
            grad = -c.copy()
            H[:, :] = 0.0
            for a in range(p):
                H[a, a] = 1.0
            ll = 0.0
            for t in range(T):
                e = d[i] + lat[k, 0, t]
                for a in range(p):
                    e += c[a] * lat[k, a + 1, t]
                if e > 30.0:
                    e = 30.0
                yt = y[i, t]
                if poisson:
                    lam = np.exp(e)
                    g = yt - lam
                    w = lam
                    ll += yt * e - lam
                else:
                    if e > logr:
                        lse = e + np.log1p(np.exp(logr - e))
                    else:
                        lse = logr + np.log1p(np.exp(e - logr))
                    q = np.exp(e - lse)
                    g = yt - (yt + ri) * q
                    w = (yt + ri) * q * (1.0 - q)
                    ll += yt * e - (yt + ri) * lse
                for a in range(p):
                    xa = lat[k, a + 1, t]
                    grad[a] += xa * g
                    for b in range(p):
                        H[a, b] += w * xa * lat[k, b + 1, t]
            if it == stop:
                break
            step = np.linalg.solve(H, grad)
            norm = np.sqrt(np.sum(step * step))
            if norm > 3.0:
                step *= 3.0 / norm
            c += step
            if norm < 1e-8:
                # one more pass evaluates ll and H at the optimum
                stop = it + 1
        sign, logdet = np.linalg.slogdet(H)
        out[m] = ll - 0.5 * np.sum(c * c) - 0.5 * logdet
    return out


@njit(cache=True)
def kalman_log_marginal(J, h, states, A, b, Q, m0, P0, t0, mf, Pf, lz):
    """Kalman filter in information form from bin ``t0`` on, with the latents integrated out.

    Same model as ``ffbs_information``. Rows ``t0 …`` of ``mf``/``Pf`` (filtered means and covariances) and of
    ``lz`` (cumulative log normaliser Σ_{s ≤ t} log ∫ N(x; m_pred, P_pred) exp(−½ xᵀJ_s x + h_sᵀx) dx) are
    overwritten; rows before ``t0`` must hold the filter of the same path. Returns lz[T-1], the log marginal
    likelihood of the pseudo-observations up to terms that do not depend on the states or dynamics.
    """
    T, D = h.shape
    m_p, hh = np.empty(D), np.empty(D)
    P_p, Jp, L, Li, tmp = (np.empty((D, D)), np.empty((D, D)), np.empty((D, D)), np.empty((D, D)),
                           np.empty((D, D)))
    no_jf = np.empty((0, D, D))
    for t in range(t0, T):
        if t == 0:
            m_p[:] = m0
            P_p[:, :] = P0
        else:
            s = states[t]
            _predict(A[s], b[s], mf[t - 1], Pf[t - 1], Q[s], m_p, P_p, tmp)
        logz = _filter_step(t, J, h, m_p, P_p, mf, Pf, no_jf, Jp, L, Li, hh)
        lz[t] = logz + (lz[t - 1] if t > 0 else 0.0)
    return lz[T - 1]
