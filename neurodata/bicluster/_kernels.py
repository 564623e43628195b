"""Numba kernels for the inner loops over time bins (Kalman filtering, HMM messages, CRT draws).

Random numbers are drawn by the caller's ``numpy.random.Generator`` and passed in, so a chain is
reproducible from its seed and resumable from a checkpoint.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _chol_solve_inv(P):
    """Inverse of a symmetric positive-definite matrix through its Cholesky factor."""
    L = np.linalg.cholesky(P)
    Linv = np.linalg.inv(L)
    return Linv.T @ Linv


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
    m_pred = m0.copy()
    P_pred = P0.copy()
    for t in range(T):
        if t > 0:
            s = states[t]
            m_pred = A[s] @ mf[t - 1] + b[s]
            P_pred = A[s] @ Pf[t - 1] @ A[s].T + Q[s]
        Jp = _chol_solve_inv(P_pred)
        Jt = Jp + J[t]
        Jt = 0.5 * (Jt + Jt.T)
        Pt = _chol_solve_inv(Jt)
        mf[t] = Pt @ (Jp @ m_pred + h[t])
        Pf[t] = 0.5 * (Pt + Pt.T)
        Jf[t] = Jt
    x = np.empty((T, D))
    L = np.linalg.cholesky(Pf[T - 1])
    x[T - 1] = mf[T - 1] + L @ z[T - 1]
    for t in range(T - 2, -1, -1):
        s = states[t + 1]
        Qinv = _chol_solve_inv(Q[s])
        AtQi = A[s].T @ Qinv
        Jc = Jf[t] + AtQi @ A[s]
        Jc = 0.5 * (Jc + Jc.T)
        Pc = _chol_solve_inv(Jc)
        mc = Pc @ (Jf[t] @ mf[t] + AtQi @ (x[t + 1] - b[s]))
        L = np.linalg.cholesky(0.5 * (Pc + Pc.T))
        x[t] = mc + L @ z[t]
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
    eta = np.empty(T)
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
