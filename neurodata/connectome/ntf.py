"""Non-negative CP decomposition (NTF) with restarts and automatic rank (stage 2 of Dyballa et al. 2024).

The inner solver is tensorly's HALS non-negative least-squares update (``tensorly.solvers.nnls.hals_nnls``),
the same update as ``tensorly.decomposition.non_negative_parafac_hals``. What we add: the matricised-tensor
times Khatri-Rao product (MTTKRP) of a C-ordered 3-way tensor is computed on reshaped *views* (no unfolding
copies, so a float32 whole-brain tensor is never duplicated), several random restarts with the best fit
kept, and a rank chosen from reconstruction error and factor stability across restarts.
"""
import numbers
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..base import Estimator
from ..errors import ConvergenceWarning, InvalidInputError
from ..inputs import check_data
from ..utils import check_option, check_random_state, check_scalar, logger, progress

# what pydoc shows (scipy's linear_sum_assignment is a builtin, so without __all__ help() would print it)
__all__ = ["NTF", "factor_match_score", "mttkrp"]


def _khatri_rao(a, b):
    """Column-wise Kronecker product, rows ordered (row of a, row of b) to match C-order reshapes."""
    return (a[:, None, :] * b[None, :, :]).reshape(-1, a.shape[1])


def mttkrp(tensor, factors, mode):
    """Matricised tensor times Khatri-Rao product of the other factors, without copying ``tensor``."""
    t, a, p = tensor.shape
    f0, f1, f2 = factors
    if mode == 0:
        return tensor.reshape(t, a * p) @ _khatri_rao(f1, f2)
    if mode == 2:
        return tensor.reshape(t * a, p).T @ _khatri_rao(f0, f1)
    # mode 1: contract the (large) pair mode first, then time.
    tmp = tensor.reshape(t * a, p) @ f2                     # (t*a, rank)
    return np.einsum("tar,tr->ar", tmp.reshape(t, a, -1), f0)


def _gram_hadamard(factors, skip):
    out = None
    for k, f in enumerate(factors):
        if k != skip:
            g = f.T @ f
            out = g if out is None else out * g
    return out


def _reconstruct_at(factors, index):
    """Entries of the CP model at the (time, animal, pair) index arrays ``index``."""
    t, a, p = index
    return np.sum(factors[0][t] * factors[1][a] * factors[2][p], axis=1)


def _hals_fit(tensor, factors, norm_x, n_iter_max, tol, missing=None):
    """HALS sweeps from the given factors until the relative error changes by < tol. Returns factors, errors.

    ``missing``: index arrays of the entries left out of the loss. They are filled in ``tensor`` with the
    current model after every sweep (EM for a masked least-squares loss: each sweep lowers the error on the
    observed entries), and the error is measured on the observed entries only.
    """
    from tensorly.solvers.nnls import hals_nnls

    errors = []
    for _ in range(n_iter_max):
        for mode in range(3):
            gram = _gram_hadamard(factors, mode)
            m = mttkrp(tensor, factors, mode)
            factors[mode] = np.ascontiguousarray(
                hals_nnls(m.T, gram, factors[mode].T.copy(), n_iter_max=5, exact=False).T)
        # ||X - Xhat||^2 = ||X||^2 + ||Xhat||^2 - 2 <X, Xhat>, all from rank × rank quantities.
        norm_hat2 = np.sum(_gram_hadamard(factors, None))
        inner = np.sum(m * factors[2])
        sq = norm_x ** 2 + norm_hat2 - 2 * inner
        if missing is not None:  # ||Y - Xhat||^2 over all entries, less the filled ones
            filled = tensor[missing].astype(np.float64)
            model = _reconstruct_at(factors, missing)
            sq += np.sum(filled ** 2) - np.sum((filled - model) ** 2)
            tensor[missing] = model
        err = np.sqrt(abs(sq)) / norm_x
        errors.append(float(err))
        if len(errors) > 1 and abs(errors[-2] - errors[-1]) < tol:
            return factors, errors, True
    return factors, errors, False


def _normalize(factors):
    """Unit-norm columns, the scale moved into weights; components sorted by decreasing weight."""
    norms = np.stack([np.linalg.norm(f, axis=0) for f in factors])
    weights = np.prod(norms, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    factors = [f / s for f, s in zip(factors, safe)]
    order = np.argsort(-weights, kind="stable")
    return weights[order], [f[:, order] for f in factors]


def factor_match_score(factors_a, factors_b):
    """Factor-match score of two CP models: mean over Hungarian-matched components of the product of the
    absolute column cosines across modes (1 = identical up to scaling and permutation).

    Models of different rank are compared on the smaller rank (unmatched components count as 0 against the
    larger rank, so a model with extra components scores below 1).
    """
    if len(factors_a) != len(factors_b):
        raise InvalidInputError("Both CP models must have the same number of modes.")
    sim = None
    for fa, fb in zip(factors_a, factors_b):
        fa = np.asarray(fa, dtype=float)
        fb = np.asarray(fb, dtype=float)
        if fa.shape[0] != fb.shape[0]:
            raise InvalidInputError(f"Mode sizes differ: {fa.shape[0]} vs {fb.shape[0]}.")
        na = np.linalg.norm(fa, axis=0)
        nb = np.linalg.norm(fb, axis=0)
        cos = np.abs(fa.T @ fb) / np.maximum(np.outer(na, nb), np.finfo(float).tiny)
        sim = cos if sim is None else sim * cos
    rows, cols = linear_sum_assignment(-sim)
    return float(sim[rows, cols].sum() / max(sim.shape))


class NTF(Estimator):
    """Non-negative CP decomposition of a (time × animals × pairs) tensor, best of several restarts.

    Parameters
    ----------
    rank : int or "auto"
        Number of components, or "auto" to choose it in ``rank_range`` (see :meth:`fit`).
    rank_range : tuple (min, max)
        Ranks tried when ``rank="auto"``.
    n_restarts : int
        Random initialisations per rank; the lowest reconstruction error is kept.
    n_iter_max : int
        Maximum HALS sweeps per restart.
    tol : float
        Stop when the relative reconstruction error changes by less than this between sweeps.
    stability_threshold : float
        Automatic rank: a rank is acceptable only if the restarts agree with the best fit (mean factor-match
        score, median over restarts) at least this much.
    min_improvement : float
        Automatic rank: a rank is acceptable only if it lowers the relative error of the previous rank by at
        least this fraction of the error drop from rank ``min`` to the largest rank tried.
    seed : None, int or numpy.random.Generator
    verbose : bool

    Attributes
    ----------
    weights_ : (rank,) component scales, decreasing
    factors_ : [time (T × rank), animals (A × rank), pairs (P × rank)] with unit-norm columns
    rank_ : chosen rank
    reconstruction_error_ : relative Frobenius error of the kept fit
    converged_ : whether the kept fit met ``tol``
    missing_fraction_ : fraction of the tensor's entries that were NaN (left out of the loss)
    rank_scores_ : dict rank -> {"error": best relative error, "stability": median factor-match score of
        the other restarts against the best} (auto rank only; otherwise the single rank fitted)
    """

    def __init__(self, *, rank="auto", rank_range=(1, 8), n_restarts=6, n_iter_max=500, tol=1e-5,
                 stability_threshold=0.9, min_improvement=0.05, seed=None, verbose=False):
        self._keep(locals())

    def _validate(self, tensor):
        name = type(self).__name__
        # the suite's input contract, without a copy: NTF only reads the tensor (whole-brain tensors are GBs)
        keep = isinstance(tensor, np.ndarray) and tensor.dtype in (np.float32, np.float64) and tensor.flags.c_contiguous
        x = np.ascontiguousarray(check_data(tensor, method=f"{name}.fit", name="tensor", ndim=3,
                                            axes=("time points", "animals", "pairs"),
                                            dtype=None if keep else float, copy=False, missing=True))
        if np.any(x < 0):
            raise InvalidInputError("tensor must be non-negative for NTF; got negative entries.")
        missing = np.isnan(x)
        if missing.all():
            raise InvalidInputError("tensor is all NaN (every entry missing); nothing to factorise.")
        if not np.any(x > 0):
            raise InvalidInputError("tensor is all zeros; nothing to factorise.")
        index = None
        if missing.any():  # a working copy whose missing entries the fit fills (never the caller's array)
            index = np.nonzero(missing)
            x = x.copy()
        if isinstance(self.rank, str):
            check_option(self.rank, "rank", ("auto",))
        if self.rank != "auto":
            check_scalar(self.rank, "rank", name, kind=numbers.Integral, low=1)
        else:
            try:
                lo, hi = (int(v) for v in self.rank_range)
            except (TypeError, ValueError):
                raise InvalidInputError(f"The 'rank_range' parameter of {name} must be a pair of ints; "
                                        f"got {self.rank_range!r}.") from None
            if not 1 <= lo < hi:
                raise InvalidInputError(f"The 'rank_range' parameter of {name} must satisfy 1 <= min < max; "
                                        f"got {self.rank_range!r}.")
        check_scalar(self.n_restarts, "n_restarts", name, kind=numbers.Integral, low=1)
        check_scalar(self.n_iter_max, "n_iter_max", name, kind=numbers.Integral, low=1)
        check_scalar(self.tol, "tol", name, low=0.0)
        check_scalar(self.stability_threshold, "stability_threshold", name, low=0.0, high=1.0)
        check_scalar(self.min_improvement, "min_improvement", name, low=0.0, high=1.0)
        return x, index

    def _fit_rank(self, x, rank, norm_x, rng, missing=None, fill=0.0):
        fits = []
        for _ in range(self.n_restarts):
            if missing is not None:  # every restart starts from the same fill of the missing entries
                x[missing] = x.dtype.type(fill)
            init = [rng.uniform(0.0, 1.0, size=(n, rank)).astype(x.dtype) for n in x.shape]
            # Scale the start so that ||Xhat|| ~ ||X|| (HALS then mostly rotates, rather than rescales).
            scale = (norm_x / max(np.sqrt(np.sum(_gram_hadamard(init, None))), 1e-30)) ** (1 / 3)
            init = [f * x.dtype.type(scale) for f in init]
            factors, errors, converged = _hals_fit(x, init, norm_x, self.n_iter_max, self.tol, missing)
            fits.append((errors[-1], factors, converged))
        fits.sort(key=lambda f: f[0])
        best = fits[0]
        # Median, so that one restart stuck in a local minimum does not veto a good rank.
        stability = (np.median([factor_match_score(best[1], f[1]) for f in fits[1:]])
                     if len(fits) > 1 else 1.0)
        return best, float(stability)

    def fit(self, tensor, y=None):
        """Factorise ``tensor`` (time × animals × pairs, non-negative; NaN = missing, left out of the loss).

        Parameters
        ----------
        tensor : array-like of shape (n_times, n_animals, n_pairs)
            Non-negative affinities. NaN entries (frames not recorded, neurons not identified in an animal)
            are masked: the factors minimise the squared error over the observed entries only, and
            ``reconstruction_error_`` is measured on them.
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        self : NTF
        """
        x, missing = self._validate(tensor)
        rng = check_random_state(self.seed)
        norm_x = float(np.sqrt(np.nansum(x.astype(np.float64) ** 2))) if x.size < 5e7 else \
            float(np.sqrt(sum(np.nansum(c.astype(np.float64) ** 2) for c in x)))
        fill = float(np.nanmean(x)) if missing is not None else 0.0
        self.missing_fraction_ = 0.0 if missing is None else missing[0].size / x.size
        ranks = [self.rank] if self.rank != "auto" else list(range(self.rank_range[0], self.rank_range[1] + 1))
        results, scores = {}, {}
        for r in progress(ranks, desc="NTF ranks", verbose=self.verbose):
            results[r], stab = self._fit_rank(x, r, norm_x, rng, missing, fill)
            scores[r] = {"error": results[r][0], "stability": stab}
            logger.info("NTF rank %d: relative error %.4f, stability %.3f", r, results[r][0], stab)
        chosen = ranks[0] if self.rank != "auto" else self._choose_rank(scores)
        err, factors, converged = results[chosen]
        if not converged:
            warnings.warn(f"NTF (rank {chosen}) stopped after n_iter_max={self.n_iter_max} sweeps before the "
                          f"error changed by less than tol={self.tol}; increase n_iter_max or tol.",
                          ConvergenceWarning, stacklevel=2)
        self.weights_, self.factors_ = _normalize([f.astype(np.float64) for f in factors])
        self.rank_ = chosen
        self.reconstruction_error_ = float(err)
        self.converged_ = bool(converged)
        self.rank_scores_ = scores
        return self

    def _choose_rank(self, scores):
        """Largest rank that is both stable across restarts and still lowers the error substantially.

        Beyond the true rank, extra components fit noise: they lower the error little and land differently
        on each restart, so the stability drops. Rank ``min`` is always acceptable (nothing to compare to).
        """
        ranks = sorted(scores)
        errs = np.array([scores[r]["error"] for r in ranks])
        total_drop = max(errs[0] - errs.min(), 1e-12)
        chosen = ranks[0]
        for k, r in enumerate(ranks[1:], start=1):
            gain = (errs[k - 1] - errs[k]) / total_drop
            if scores[r]["stability"] >= self.stability_threshold and gain >= self.min_improvement:
                chosen = r
        return chosen

    def reconstruct(self):
        """The fitted low-rank tensor (time × animals × pairs)."""
        t, a, p = self.factors_
        return np.einsum("r,tr,ar,pr->tap", self.weights_, t, a, p)
