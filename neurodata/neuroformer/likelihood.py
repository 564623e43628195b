"""Held-out log-likelihood of the current window's spike pattern, Neuroformer against a Poisson GLM, in one unit.

The common unit is nats per spike of the observed current-window pattern given the past window. The pattern
is the count matrix ``n[j, b]``: spikes of neuron ``j`` whose offset from the window start rounds to dt step
``b`` (exactly the tokenizer's dt tokens, so both models see the same bins and the same spikes).

- The Neuroformer's probability of the pattern is that of its token sequence: every (ID, dt) pair *and* the
  closing EOS pair (the stop is what says "no more spikes", as the GLM's zero counts do).
- The GLM: independent Poisson counts ``n[j, b] ~ Poisson(lambda[j, b])`` with ``log lambda[j, b] = c[j, b] +
  w[j] . x``, ``x`` = the past window's counts of every neuron in ``past_bins`` sub-windows (standardised),
  one PoissonRegressor per neuron over its (window, bin) rows (coupling shared by the bins, an offset per
  bin), fitted on the training windows. It sees only the past window, while
  the Neuroformer also conditions on the earlier spikes of the current window (its autoregression): that is
  part of what is compared.
- One event space for both: the token sequence. The tokenizer writes the spikes of a bin in their time order,
  so the Neuroformer is scored on the ordered sequence; the GLM, a Poisson process with rates constant inside a
  bin, gives every time order of a bin's labels the same probability, ``prod_j n[j, b]! / n[b]!``, which
  :func:`order_log_probability` adds to its count log-likelihood. Those (``neuroformer``, ``glm``,
  ``constant_rate``) are exact log-probabilities of the same sequences; ``glm_pattern`` (counts only) is
  returned too, against which the model's number is a lower bound.
- Totals are divided by the held-out spike count.
"""
import numbers

import numpy as np
from scipy.special import gammaln

from ..errors import InvalidInputError
from ..utils import check_scalar

__all__ = ["PoissonWindowGLM", "compare_window_log_likelihood", "order_log_probability", "window_counts"]


def window_counts(tokens, tokenizer, *, past_bins=3):
    """(current counts (n, n_units, n_bins), past features (n, n_units * past_bins)) of :class:`Tokens`."""
    check_scalar(past_bins, "past_bins", "window_counts", kind=numbers.Integral, low=1)
    m = tokenizer.n_units
    cur_steps = int(np.floor(tokenizer.window / tokenizer.dt * (1 + 1e-9) + 0.5))
    past_steps = int(np.floor(tokenizer.past / tokenizer.dt * (1 + 1e-9) + 0.5))
    n = len(tokens)
    cur = np.zeros((n, m, cur_steps + 1))
    rows, cols = np.nonzero(tokens.id < m)
    np.add.at(cur, (rows, tokens.id[rows, cols], tokens.dt[rows, cols]), 1.0)
    past = np.zeros((n, m, past_bins))
    rows, cols = np.nonzero(tokens.past_id < m)
    group = np.minimum(tokens.past_dt[rows, cols] * past_bins // (past_steps + 1), past_bins - 1)
    np.add.at(past, (rows, tokens.past_id[rows, cols], group), 1.0)
    return cur, past.reshape(n, -1)


class PoissonWindowGLM:
    """Poisson GLM of each (neuron, dt bin) count (offset per bin, coupling per neuron) of the current window on the past window's binned counts.

    Parameters
    ----------
    past_bins : int — sub-windows of the past window (features: n_units × past_bins counts)
    alpha : float — L2 penalty of scikit-learn's PoissonRegressor (on standardised features)
    max_iter : int
    """

    def __init__(self, *, past_bins=3, alpha=1e-3, max_iter=300):
        self.past_bins, self.alpha, self.max_iter = past_bins, alpha, max_iter

    def fit(self, counts, features):
        """``counts`` (n, n_units, n_bins), ``features`` (n, f) of the training windows. Returns self."""
        from sklearn.linear_model import PoissonRegressor

        check_scalar(self.alpha, "alpha", "PoissonWindowGLM", low=0.0)
        check_scalar(self.max_iter, "max_iter", "PoissonWindowGLM", kind=numbers.Integral, low=1)
        counts, features = np.asarray(counts, float), np.asarray(features, float)
        if counts.ndim != 3 or features.ndim != 2 or len(counts) != len(features) or len(counts) < 2:
            raise InvalidInputError(f"PoissonWindowGLM.fit needs counts (n, units, bins) and features (n, f) of "
                                    f"the same n >= 2; got {counts.shape} and {features.shape}.")
        self.mean_ = features.mean(0)
        scale = features.std(0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        x = (features - self.mean_) / self.scale_
        n, m, b = counts.shape
        # one regression per neuron over its (window, bin) rows: the coupling to the past is shared by the bins
        # of the window, each bin has its own offset (one-hot) -- pooling the sparse per-bin counts
        design = np.hstack([np.repeat(x, b, axis=0), np.tile(np.eye(b), (n, 1))])
        self.coef_ = np.zeros((m, x.shape[1]))
        self.intercept_ = np.zeros((m, b))
        for j in range(m):
            y = counts[:, j, :].reshape(-1)
            if y.sum() == 0:  # never seen: a tiny rate (a zero rate would give -inf on one held-out spike)
                self.intercept_[j] = np.log(0.5 / len(y))
                continue
            glm = PoissonRegressor(alpha=self.alpha, max_iter=self.max_iter).fit(design, y)
            self.coef_[j] = glm.coef_[:x.shape[1]]
            self.intercept_[j] = glm.intercept_ + glm.coef_[x.shape[1]:]
        return self

    def rates(self, features):
        """(n, n_units, n_bins) expected counts."""
        x = (np.asarray(features, float) - self.mean_) / self.scale_
        return np.exp((x @ self.coef_.T)[:, :, None] + self.intercept_[None])

    def log_likelihood(self, counts, features):
        """Total log-probability (nats) of the count patterns."""
        lam = self.rates(features)
        counts = np.asarray(counts, float)
        return float((counts * np.log(lam) - lam - gammaln(counts + 1)).sum())


def compare_window_log_likelihood(model, spikes, *, train_starts, test_starts, past_bins=3, alpha=1e-3):
    """Held-out nats per spike of the current-window pattern: a fitted Neuroformer ``model`` against a
    :class:`PoissonWindowGLM` fitted on ``train_starts``' windows (and a per-bin constant-rate Poisson, the
    floor both should beat). Returns a dict with ``neuroformer``, ``glm``, ``constant_rate`` (nats / spike),
    ``neuroformer_minus_glm`` (all on the ordered token sequence), ``glm_pattern``, ``constant_rate_pattern``
    (counts only), ``n_spikes``, ``n_test_windows``."""
    if not hasattr(model, "net_"):
        raise InvalidInputError("compare_window_log_likelihood needs a fitted Neuroformer; call fit first.")
    tok = model.tokenizer_
    train_starts, test_starts = np.asarray(train_starts, float), np.asarray(test_starts, float)
    if len(train_starts) < 2 or len(test_starts) < 1:
        raise InvalidInputError(f"compare_window_log_likelihood needs >= 2 training and >= 1 test windows; got "
                                f"{len(train_starts)} and {len(test_starts)}.")
    train = tok.tokenize(spikes, starts=train_starts)
    test = tok.tokenize(spikes, starts=test_starts)
    y_train, x_train = window_counts(train, tok, past_bins=past_bins)
    y_test, x_test = window_counts(test, tok, past_bins=past_bins)
    n_spikes = float(y_test.sum())
    if n_spikes == 0:
        raise InvalidInputError("compare_window_log_likelihood: the test windows hold no spikes.")
    glm = PoissonWindowGLM(past_bins=past_bins, alpha=alpha).fit(y_train, x_train)
    rate = np.maximum(y_train.mean(0), 0.5 / len(y_train))  # per (neuron, bin) maximum-likelihood constant
    const = float((y_test * np.log(rate) - rate - gammaln(y_test + 1)).sum())
    s = model.score(spikes, starts=test_starts)
    if s["n_spikes"] != int(n_spikes):
        raise InvalidInputError(f"compare_window_log_likelihood: the model scored {s['n_spikes']} spikes but the "
                                f"windows hold {int(n_spikes)}.")
    nf = s["log_likelihood_per_window"] * len(test) / n_spikes  # every token, EOS included
    g = glm.log_likelihood(y_test, x_test)
    order = order_log_probability(y_test)
    return {"neuroformer": float(nf), "glm": float((g + order) / n_spikes),
            "constant_rate": float((const + order) / n_spikes),
            "neuroformer_minus_glm": float(nf - (g + order) / n_spikes),
            "glm_pattern": float(g / n_spikes), "constant_rate_pattern": float(const / n_spikes),
            "n_spikes": int(n_spikes), "n_test_windows": len(test)}


def order_log_probability(counts):
    """Total log-probability of the time order of the spikes' labels within each bin given the counts, for a
    Poisson process whose rates are constant inside a bin: every arrangement of the multiset of labels is
    equally likely, so it is ``sum_b [sum_j log n[j, b]! - log n[b]!]`` (<= 0)."""
    counts = np.asarray(counts, float)
    return float(gammaln(counts + 1).sum() - gammaln(counts.sum(1) + 1).sum())
