"""Cross-validated ridge encoding models with one regularisation per target.

Speed (same idea as himalaya's solvers, done once more cheaply): for ``n_features >= n_samples`` the
problem is solved in the kernel (dual) form. The Gram matrix ``X Xᵀ`` is computed once for all folds — each
fold's centred training and validation kernels are exact sub-blocks of it plus rank-one centring terms — and
each fold needs one eigendecomposition of an (n_train × n_train) kernel, shared by every alpha and target.
With fewer features than samples the primal covariance is decomposed instead. Predictions for all alphas
then cost one matrix product each, and alpha is picked per target by the mean squared validation error.
"""
from dataclasses import dataclass, field

import numpy as np

from ..base import Estimator
from ..errors import InvalidInputError
from ..inputs import check_data
from ..utils import check_array, check_scalar

__all__ = ["EncodingDefaults", "RidgeEncoder", "check_folds", "encoding_scores", "EncodingResult",
           "pearson_columns"]


@dataclass(frozen=True)
class EncodingDefaults:
    """Defaults for brain–model encoding (Raugel et al. 2025 fit ridge with cross-validated alpha and score
    with the Pearson correlation per target; the grid here is wider than theirs so that standardised and
    raw features both find an interior optimum)."""

    alphas: tuple = tuple(np.logspace(-3, 9, 13))
    cv: int = 5            # outer folds for the encoding score
    inner_cv: int = 5      # folds to choose alpha per target
    normalize: str = "r2/c"  # noise-ceiling normalisation: r² / (Spearman–Brown split-half reliability)


DEFAULTS = EncodingDefaults()


def _eigh(a):
    """Symmetric eigendecomposition in float64 on one BLAS thread: LAPACK's tridiagonalisation is a stream of
    small level-2 calls, for which thread synchronisation costs more than it gains — and on a busy machine a
    multi-threaded eigh of a 400 × 400 kernel was measured 30–100× slower than the single-threaded one."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        evals, evecs = np.linalg.eigh(a.astype(np.float64))
    return np.maximum(evals, 0.0), evecs


def _folds(n, cv):
    """Contiguous K-fold split (as scikit-learn's KFold without shuffling)."""
    sizes = np.full(cv, n // cv)
    sizes[: n % cv] += 1
    edges = np.concatenate([[0], np.cumsum(sizes)])
    idx = np.arange(n)
    return [(np.concatenate([idx[:edges[i]], idx[edges[i + 1]:]]), idx[edges[i]:edges[i + 1]]) for i in range(cv)]


class _Design:
    """Holds X (and, in dual mode, its Gram matrix) so that folds reuse the expensive products."""

    def __init__(self, X):
        self.X = X
        self.dual = X.shape[1] >= X.shape[0]
        self.gram = X @ X.T if self.dual else None

    def decompose(self, train):
        """Eigen-decomposition of the centred training problem: returns (eigvals, eigvecs, context)."""
        X = self.X
        if self.dual:
            g = self.gram[np.ix_(train, train)]
            r = g.mean(axis=1)
            c = r.mean()
            k = g - r[:, None] - r[None, :] + c  # = (X_tr - m)(X_tr - m)ᵀ
            evals, evecs = _eigh(k)
            return evals, evecs.astype(X.dtype), (r, c)
        m = X[train].mean(axis=0)
        xc = X[train] - m
        evals, evecs = _eigh(xc.T @ xc)
        return evals, evecs.astype(X.dtype), (m, xc)

    def left(self, train, evecs, ctx, rows=None, X_new=None):
        """A such that predictions for all alphas are ``(A * w_alpha) @ B``; rows index X, or X_new given."""
        if self.dual:
            r, c = ctx
            if X_new is None:
                g = self.gram[np.ix_(rows, train)]
            else:
                g = X_new @ self.X[train].T
            # (x - m)·(x_t - m) = x·x_t - x·m - m·x_t + m·m, with x·m = mean_t(x·x_t)
            kv = g - g.mean(axis=1, keepdims=True) - r[None, :] + c
            return kv @ evecs
        m, _ = ctx
        xv = (self.X[rows] if X_new is None else X_new) - m
        return xv @ evecs

    def right(self, train, evecs, ctx, Yc):
        """B = (eigvecs)ᵀ Xᵀ-ish product with the centred training targets."""
        if self.dual:
            return evecs.T @ Yc
        _, xc = ctx
        return evecs.T @ (xc.T @ Yc)


def _weights(evals, alphas, dual, dtype):
    # dual: pred = K_v U diag(1/(λ+α)) Uᵀ Y ; primal: pred = X_v V diag(1/(λ+α)) Vᵀ X_trᵀ Y
    return (1.0 / (evals[None, :] + np.asarray(alphas)[:, None])).astype(dtype)


def _cv_errors(design, Y, train_idx, alphas, cv):
    """Mean squared validation error (n_alphas × n_targets) over ``cv`` folds inside ``train_idx``."""
    err = np.zeros((len(alphas), Y.shape[1]))
    for tr, va in _folds(train_idx.size, cv):
        tr, va = train_idx[tr], train_idx[va]
        evals, evecs, ctx = design.decompose(tr)
        mean = Y[tr].mean(axis=0)
        A = design.left(tr, evecs, ctx, rows=va)
        B = design.right(tr, evecs, ctx, Y[tr] - mean)
        Yv = Y[va] - mean
        for a, w in enumerate(_weights(evals, alphas, design.dual, Y.dtype)):
            resid = (A * w) @ B
            resid -= Yv
            err[a] += np.einsum("ij,ij->j", resid, resid) / va.size
    return err / cv


def _fit(design, Y, train_idx, alphas, inner_cv):
    """Choose alpha per target by inner CV, refit on ``train_idx``; returns a predictor closure state."""
    err = _cv_errors(design, Y, train_idx, alphas, inner_cv)
    best = np.argmin(err, axis=0)
    evals, evecs, ctx = design.decompose(train_idx)
    mean = Y[train_idx].mean(axis=0)
    B = design.right(train_idx, evecs, ctx, Y[train_idx] - mean)
    W = _weights(evals, alphas, design.dual, Y.dtype)
    for a in np.unique(best):  # scale the eigen-coordinates of each target by its own alpha's weights
        cols = best == a
        B[:, cols] *= W[a][:, None]
    return best, (evecs, ctx, B, mean)


def _predict(design, train_idx, state, rows=None, X_new=None):
    evecs, ctx, B, mean = state
    return design.left(train_idx, evecs, ctx, rows=rows, X_new=X_new) @ B + mean


def pearson_columns(a, b):
    """Pearson correlation of matching columns of two (samples × targets) arrays; 0 where one is constant."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt(np.einsum("ij,ij->j", a, a) * np.einsum("ij,ij->j", b, b))
    num = np.einsum("ij,ij->j", a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return r


def _check_xy(X, Y, owner):
    # the suite's input contract (stimuli first; no orientation rule: features ≫ stimuli and the reverse are
    # both common); float32 stays float32 for speed
    X = check_data(X, method=owner, name="X", ndim=(1, 2), axes=("stimuli", "features"), min_rows=2, dtype=None)
    Y = check_data(Y, method=owner, name="Y", ndim=(1, 2), axes=("stimuli", "targets"), min_rows=2, dtype=None)
    X = X.reshape(X.shape[0], -1)
    Y = Y.reshape(Y.shape[0], -1).astype(X.dtype, copy=False)
    if X.shape[0] != Y.shape[0]:
        raise InvalidInputError(f"{owner}: X has {X.shape[0]} samples (stimuli) but Y has {Y.shape[0]}.")
    return X, Y


def _check_alphas(alphas, owner):
    alphas = np.asarray(alphas, dtype=float).ravel()
    if alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas <= 0):
        raise InvalidInputError(f"The 'alphas' parameter of {owner} must be positive finite numbers. Got {alphas!r}.")
    return np.sort(alphas)


def check_folds(cv, inner_cv, n_stimuli, owner):
    """Fold counts for nested CV on ``n_stimuli``; the message names the stimulus count and the largest
    usable value (each outer fold must leave >= 2 stimuli per fold), not only a range."""
    for name, value in (("cv", cv), ("inner_cv", inner_cv)):
        check_scalar(value, name, owner, kind=int, low=2)
    limit = n_stimuli // 2
    if limit < 2:
        raise InvalidInputError(f"{owner}: only {n_stimuli} stimuli; nested cross-validation needs at least 4 "
                                "(2 folds of >= 2 stimuli).")
    for name, value in (("cv", cv), ("inner_cv", inner_cv)):
        if value > limit:
            raise InvalidInputError(f"{owner}: only {n_stimuli} stimuli, so {name} must be <= {limit} (each fold "
                                    f"needs >= 2 stimuli); got {name}={value}. Use {name} <= {limit}, or more "
                                    "stimuli.")


class RidgeEncoder(Estimator):
    """Ridge regression from model features to brain responses, with alpha chosen per target by K-fold CV.

    Parameters
    ----------
    alphas : sequence of float
        Regularisation grid (default 10⁻³ … 10⁹, 13 values).
    cv : int
        Folds (contiguous, as scikit-learn's KFold) used to choose alpha per target.

    Attributes
    ----------
    alpha_ : ndarray (n_targets,)
    n_features_in_ : int
    """

    def __init__(self, *, alphas=DEFAULTS.alphas, cv=DEFAULTS.inner_cv):
        self.alphas = alphas
        self.cv = cv

    def fit(self, X, Y):
        """Fit on X (stimuli × features) and Y (stimuli × targets); returns self."""
        X, Y = _check_xy(X, Y, "RidgeEncoder")
        alphas = _check_alphas(self.alphas, "RidgeEncoder")
        check_scalar(self.cv, "cv", "RidgeEncoder", kind=int, low=2, high=X.shape[0])
        self._design = _Design(X)
        self._train = np.arange(X.shape[0])
        best, self._state = _fit(self._design, Y, self._train, alphas, self.cv)
        self.alpha_ = alphas[best]
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        """Predicted responses (stimuli × targets)."""
        if not hasattr(self, "_state"):
            raise InvalidInputError("This RidgeEncoder is not fitted yet; call fit(X, Y) first.")
        X = check_array(X, "X", ndim=(1, 2), dtype=self._design.X.dtype).reshape(np.shape(X)[0], -1)
        if X.shape[1] != self.n_features_in_:
            raise InvalidInputError(f"X has {X.shape[1]} features; the encoder was fitted with {self.n_features_in_}.")
        return _predict(self._design, self._train, self._state, X_new=X)

    def score(self, X, Y):
        """Pearson r per target between predictions for X and Y."""
        X, Y = _check_xy(X, Y, "RidgeEncoder.score")
        return pearson_columns(self.predict(X), Y)


@dataclass(frozen=True)
class EncodingResult:
    """Cross-validated encoding performance.

    r : Pearson r per target, averaged over the outer folds.
    r_folds : (folds × targets) Pearson r of each outer fold.
    alpha : (folds × targets) alpha chosen (by inner CV) in each outer fold.
    ceiling : (targets,) noise ceiling (Spearman–Brown split-half reliability) if given, else None.
    normalized : (targets,) ``r² / ceiling`` (or ``r / sqrt(ceiling)``) if a ceiling was given, else None.
    """

    r: np.ndarray
    r_folds: np.ndarray
    alpha: np.ndarray
    ceiling: np.ndarray = None
    normalized: np.ndarray = None
    extras: dict = field(default_factory=dict)

    @property
    def mean_r(self):
        return float(np.mean(self.r))


def encoding_scores(X, Y, *, alphas=DEFAULTS.alphas, cv=DEFAULTS.cv, inner_cv=DEFAULTS.inner_cv, ceiling=None,
                    normalize=DEFAULTS.normalize):
    """Nested cross-validated ridge encoding score: Pearson r per target on held-out stimuli.

    For each of ``cv`` contiguous outer folds, alpha is chosen per target by ``inner_cv``-fold CV on the
    training stimuli, the model is refit there and scored on the held-out stimuli.

    Parameters
    ----------
    X : array (stimuli × features) — model activations.
    Y : array (stimuli × targets) — brain responses (voxels, sensors × times, units…).
    ceiling : array (targets,), optional
        Reliability per target (e.g. :func:`~neurodata.alignment.noise_ceiling`), used to normalise.
    normalize : {"r2/c", "r/sqrt(c)"}
        ``r²/c`` (explained variance relative to explainable variance; default) or ``r/√c``.

    Returns
    -------
    EncodingResult
    """
    if normalize not in ("r2/c", "r/sqrt(c)"):
        raise InvalidInputError(f"Allowed values for 'normalize' are 'r2/c', 'r/sqrt(c)', but got {normalize!r} "
                                f"instead.")
    X, Y = _check_xy(X, Y, "encoding_scores")
    alphas = _check_alphas(alphas, "encoding_scores")
    check_folds(cv, inner_cv, X.shape[0], "encoding_scores")
    design = _Design(X)
    r_folds, alpha_folds = [], []
    for train, test in _folds(X.shape[0], cv):
        best, state = _fit(design, Y, train, alphas, inner_cv)
        pred = _predict(design, train, state, rows=test)
        r_folds.append(pearson_columns(pred, Y[test]))
        alpha_folds.append(alphas[best])
    r_folds = np.array(r_folds)
    r = r_folds.mean(axis=0)
    normalized = None
    if ceiling is not None:
        ceiling = check_array(ceiling, "ceiling", ndim=1).reshape(-1)
        if ceiling.shape != r.shape:
            raise InvalidInputError(f"ceiling has {ceiling.size} entries for {r.size} targets.")
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(ceiling > 0, ceiling, np.nan)  # unreliable targets have no meaningful ceiling
            normalized = r ** 2 / c if normalize == "r2/c" else r / np.sqrt(c)
    return EncodingResult(r=r, r_folds=r_folds, alpha=np.array(alpha_folds), ceiling=ceiling, normalized=normalized)
