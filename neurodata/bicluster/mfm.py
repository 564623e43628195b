"""Mixture-of-finite-mixtures (MFM) prior over partitions (Miller & Harrison 2018, JASA 113:340).

With K ~ p_K, π | K ~ Dirichlet(γ, …, γ) and n labels drawn from π, a partition C with t blocks has prior
probability V_n(t) Π_c γ^(|c|) (rising factorials), where V_n(t) = Σ_{k≥t} k_(t) / (γk)^(n) p_K(k).
"""
import numpy as np
from scipy.special import gammaln, logsumexp

from ..errors import InvalidInputError


def geometric_log_pk(rho):
    """log p(K = k) for K ~ Geometric(rho) on {1, 2, …} (the reference code's choice, rho = 0.2)."""
    if not 0.0 < rho < 1.0:
        raise InvalidInputError(f"The geometric parameter rho must lie in (0, 1). Got {rho!r} instead.")
    return lambda k: np.log(rho) + (np.asarray(k) - 1) * np.log1p(-rho)


def mfm_log_v(n, gamma=1.0, rho=0.2, t_max=None, k_max=None):
    """log V_n(t) for t = 1 … t_max (index t-1); entries with t > n are -inf.

    The series over k is summed until the geometric tail is below 1e-300 relative (k_max by default).
    """
    t_max = n if t_max is None else t_max
    log_pk = geometric_log_pk(rho)
    if k_max is None:
        # tail of p_K beyond k is (1-rho)^k: stop where it is negligible against every term kept
        k_max = max(int(np.ceil(800.0 / -np.log1p(-rho))), t_max + 1)
    k = np.arange(1, k_max + 1, dtype=float)
    out = np.full(t_max, -np.inf)
    base = gammaln(gamma * k) - gammaln(gamma * k + n) + log_pk(k)
    for t in range(1, min(t_max, n) + 1):
        kk = k[k >= t]
        terms = gammaln(kk + 1) - gammaln(kk - t + 1) + base[k >= t]
        out[t - 1] = logsumexp(terms)
    return out


def mfm_prior_num_clusters(n, gamma=1.0, rho=0.2):
    """Prior probability of t = 1 … n blocks in a random partition of n items under the MFM.

    p(t) = V_n(t) · B(n, t) where B(n, t) = Σ_{partitions into t blocks} Π_c γ^(|c|), computed by the
    recursion B(m+1, t) = (m + γt) B(m, t) + γ B(m, t-1).
    """
    log_v = mfm_log_v(n, gamma, rho)
    log_b = np.full(n + 1, -np.inf)  # over t for the current m
    log_b[0] = 0.0  # B(0, 0) = 1
    for m in range(n):
        t = np.arange(n + 1, dtype=float)
        stay = log_b + np.log(m + gamma * t, where=(m + gamma * t) > 0,
                              out=np.full(n + 1, -np.inf))
        new = np.concatenate(([-np.inf], log_b[:-1] + np.log(gamma)))
        log_b = np.logaddexp(stay, new)
    return np.exp(log_v + log_b[1:])
