"""Cross-validated ridge encoding models with one regularisation per target.

Speed (same idea as himalaya's solvers, done once more cheaply): for ``n_features >= n_samples`` the
problem is solved in the kernel (dual) form. The Gram matrix ``X Xᵀ`` is computed once for all folds — each
fold's centred training and validation kernels are exact sub-blocks of it plus rank-one centring terms — and
each fold needs one eigendecomposition of an (n_train × n_train) kernel, shared by every alpha and target.
With fewer features than samples the primal covariance is decomposed instead. Predictions for all alphas
then cost one matrix product each, and alpha is picked per target by the mean squared validation error.

Scoring (#30): the encoding r is computed once per target on the pooled out-of-fold predictions, not averaged
over folds (a test fold of 2 stimuli gives r = ±1 whatever the model). Before pooling, each fold's predictions
are standardised within the fold (``fold_scaling="standardize"``) and the targets centred within it: the
offset between folds (a training mean anti-correlates with its test fold's mean) and the fold-to-fold change of
prediction scale (each fold picks its own alpha) are artefacts of the split, and on pure noise they bias the
pooled r strongly negative (measured on 120 stimuli × 50 noise targets, 6 seeds: mean r −0.13 uncorrected,
−0.066 centred only, −0.004 standardised). Folds are shuffled with a seed by default, and ``groups`` keeps
all stimuli of a group (a concept, a category, a session) in the same fold, outer and inner.

Ceilings: the normalised score is ``sign(r) · r² / c`` clipped to [−1, 1] (``r / √c`` clipped likewise with
``normalize="r/sqrt(c)"``); see :func:`normalized_score`.
"""
from dataclasses import dataclass, field

import numpy as np

from ..base import Estimator
from ..errors import InvalidInputError
from ..inputs import check_data
from ..utils import check_array, check_option, check_random_state, check_scalar

__all__ = ["EncodingDefaults", "RidgeEncoder", "check_folds", "encoding_scores", "EncodingResult",
           "normalized_score", "pearson_columns"]

FOLD_SCALINGS = ("standardize", "center", "none")
NORMALIZATIONS = ("r2/c", "r/sqrt(c)")


@dataclass(frozen=True)
class EncodingDefaults:
    """Defaults for brain–model encoding (Raugel et al. 2025 fit ridge with cross-validated alpha and score
    with the Pearson correlation per target; the grid here is wider than theirs so that standardised and
    raw features both find an interior optimum)."""

    alphas: tuple = tuple(np.logspace(-3, 9, 13))
    cv: int = 5            # outer folds for the encoding score
    inner_cv: int = 5      # folds to choose alpha per target
    normalize: str = "r2/c"  # sign(r)·r²/c clipped to [−1, 1], c = Spearman–Brown split-half reliability
    shuffle: bool = True   # folds drawn at random (with `seed`), not contiguous blocks of stimuli
    seed: int = 0
    fold_scaling: str = "standardize"  # how held-out predictions are pooled (see the module docstring)


DEFAULTS = EncodingDefaults()


def _eigh(a):
    """Symmetric eigendecomposition in float64 on one BLAS thread: LAPACK's tridiagonalisation is a stream of
    small level-2 calls, for which thread synchronisation costs more than it gains — and on a busy machine a
    multi-threaded eigh of a 400 × 400 kernel was measured 30–100× slower than the single-threaded one."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        evals, evecs = np.linalg.eigh(a.astype(np.float64))
    return np.maximum(evals, 0.0), evecs


def _folds(n, cv, rng=None, groups=None):
    """K-fold split of ``n`` stimuli → list of (train, test) index arrays (sorted).

    Without ``rng`` the folds are contiguous (scikit-learn's KFold without shuffling); with it the stimuli
    are permuted first. With ``groups`` (one label per stimulus) whole groups go to a fold, larger groups
    first into the currently smallest fold (as GroupKFold), in a random order of groups when ``rng`` is given.
    """
    sizes = np.full(cv, n // cv)
    sizes[: n % cv] += 1
    fold_of = np.empty(n, dtype=int)
    if groups is None:
        order = np.arange(n) if rng is None else rng.permutation(n)
        fold_of[order] = np.repeat(np.arange(cv), sizes)
    else:
        labels, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
        if labels.size < cv:
            raise InvalidInputError(f"only {labels.size} distinct groups for {cv} folds; every fold needs at least "
                                    f"one whole group. Use fewer folds (<= {labels.size}) or finer groups.")
        order = np.arange(labels.size) if rng is None else rng.permutation(labels.size)
        order = order[np.argsort(-counts[order], kind="stable")]
        load = np.zeros(cv, dtype=int)
        group_fold = np.empty(labels.size, dtype=int)
        for g in order:
            f = int(np.argmin(load))
            group_fold[g] = f
            load[f] += counts[g]
        fold_of = group_fold[inverse.ravel()]
    idx = np.arange(n)
    return [(idx[fold_of != k], idx[fold_of == k]) for k in range(cv)]


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


def _cv_errors(design, Y, train_idx, alphas, cv, rng=None, groups=None):
    """Mean squared validation error (n_alphas × n_targets) over ``cv`` folds inside ``train_idx``."""
    err = np.zeros((len(alphas), Y.shape[1]))
    sub = None if groups is None else groups[train_idx]
    for tr, va in _folds(train_idx.size, cv, rng, sub):
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


def _fit(design, Y, train_idx, alphas, inner_cv, rng=None, groups=None):
    """Choose alpha per target by inner CV, refit on ``train_idx``; returns a predictor closure state."""
    err = _cv_errors(design, Y, train_idx, alphas, inner_cv, rng, groups)
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


def normalized_score(r, ceiling, normalize=DEFAULTS.normalize):
    """Noise-ceiling-normalised encoding score, signed and capped to [−1, 1].

    ``"r2/c"``: ``sign(r) · r² / c`` — the fraction of the explainable variance explained, with the sign of
    r kept so that chance correlations of either sign average to about zero instead of adding up (the plain
    ``r² / c`` gives 0.18 on a pure-noise region with c = 0.1). ``"r/sqrt(c)"``: ``r / √c``. Both are clipped
    to [−1, 1]: a score above the ceiling is an estimation error of the ceiling, not a better-than-ceiling
    model. Targets whose ceiling is not positive (unreliable targets) get NaN.

    This is our convention, not the paper's (nothing we have read states how Raugel et al. treat negative r or
    scores above the ceiling); Brain-Score's ``r / ceiling`` is not offered because its ceiling is a
    correlation, not the variance reliability that :func:`~neurodata.alignment.noise_ceiling` returns.
    """
    check_option(normalize, "normalize", NORMALIZATIONS)
    r = np.asarray(r, dtype=float)
    c = np.asarray(ceiling, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(c > 0, c, np.nan)  # unreliable targets have no meaningful ceiling
        out = np.sign(r) * r ** 2 / c if normalize == "r2/c" else r / np.sqrt(c)
    return np.clip(out, -1.0, 1.0)


def _fold_rng(shuffle, seed):
    """The generator that draws the folds (None: contiguous folds)."""
    return check_random_state(seed) if shuffle else None


def _check_groups(groups, n, owner):
    if groups is None:
        return None
    g = np.asarray(groups)
    if g.shape != (n,):
        raise InvalidInputError(f"{owner}: groups must hold one label per stimulus ({n}); got shape {g.shape}.")
    return g


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
        Folds used to choose alpha per target.
    shuffle : bool
        Draw the folds at random (default) instead of contiguous blocks of stimuli.
    seed : int or numpy.random.Generator
        Seed of the fold draw.

    Attributes
    ----------
    alpha_ : ndarray (n_targets,)
    n_features_in_ : int
    """

    def __init__(self, *, alphas=DEFAULTS.alphas, cv=DEFAULTS.inner_cv, shuffle=DEFAULTS.shuffle,
                 seed=DEFAULTS.seed):
        self.alphas = alphas
        self.cv = cv
        self.shuffle = shuffle
        self.seed = seed

    def fit(self, X, Y, groups=None):
        """Fit on X (stimuli × features) and Y (stimuli × targets); ``groups`` (one label per stimulus) keeps
        each group in one fold of the alpha search. Returns self."""
        X, Y = _check_xy(X, Y, "RidgeEncoder")
        alphas = _check_alphas(self.alphas, "RidgeEncoder")
        check_scalar(self.cv, "cv", "RidgeEncoder", kind=int, low=2, high=X.shape[0])
        groups = _check_groups(groups, X.shape[0], "RidgeEncoder")
        self._design = _Design(X)
        self._train = np.arange(X.shape[0])
        best, self._state = _fit(self._design, Y, self._train, alphas, self.cv, _fold_rng(self.shuffle, self.seed),
                                 groups)
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

    r : Pearson r per target on the pooled out-of-fold predictions (each fold's predictions standardised and
        targets centred within the fold before pooling, unless ``fold_scaling`` said otherwise).
    r_folds : (folds × targets) Pearson r within each outer fold (a diagnostic: noisy for small folds, ±1 for
        folds of 2 stimuli; not the score).
    alpha : (folds × targets) alpha chosen (by inner CV) in each outer fold.
    ceiling : (targets,) noise ceiling (Spearman–Brown split-half reliability) if given, else None.
    normalized : (targets,) :func:`normalized_score` of r (signed, clipped to [−1, 1]; NaN where the ceiling
        is not positive) if a ceiling was given, else None.
    predictions : (stimuli × targets) out-of-fold predictions, as predicted (before the fold scaling).
    folds : (stimuli,) outer fold of each stimulus.
    """

    r: np.ndarray
    r_folds: np.ndarray
    alpha: np.ndarray
    ceiling: np.ndarray = None
    normalized: np.ndarray = None
    extras: dict = field(default_factory=dict)
    predictions: np.ndarray = None
    folds: np.ndarray = None

    @property
    def mean_r(self):
        return float(np.mean(self.r))


def _pooled_r(pred, Y, folds, cv, fold_scaling):
    """Pearson r per target of the pooled held-out predictions (see the module docstring)."""
    if fold_scaling == "none":
        return pearson_columns(pred, Y)
    P = np.array(pred, dtype=np.float64)
    T = np.array(Y, dtype=np.float64)
    for k in range(cv):
        m = folds == k
        P[m] -= P[m].mean(axis=0)
        T[m] -= T[m].mean(axis=0)
        if fold_scaling == "standardize":
            s = np.sqrt(np.mean(P[m] ** 2, axis=0))
            P[m] /= np.where(s > 0, s, 1.0)  # a constant fold prediction stays 0: it carries no ranking
    return pearson_columns(P, T)


def encoding_scores(X, Y, *, alphas=DEFAULTS.alphas, cv=DEFAULTS.cv, inner_cv=DEFAULTS.inner_cv, ceiling=None,
                    normalize=DEFAULTS.normalize, shuffle=DEFAULTS.shuffle, seed=DEFAULTS.seed, groups=None,
                    fold_scaling=DEFAULTS.fold_scaling):
    """Nested cross-validated ridge encoding score: Pearson r per target on pooled held-out predictions.

    For each of ``cv`` outer folds, alpha is chosen per target by ``inner_cv``-fold CV on the training
    stimuli, the model is refit there and predicts the held-out stimuli; r is computed once on all held-out
    predictions together.

    Parameters
    ----------
    X : array (stimuli × features) — model activations.
    Y : array (stimuli × targets) — brain responses (voxels, sensors × times, units…).
    ceiling : array (targets,), optional
        Reliability per target (e.g. :func:`~neurodata.alignment.noise_ceiling`), used to normalise.
    normalize : {"r2/c", "r/sqrt(c)"}
        ``sign(r)·r²/c`` (explained fraction of the explainable variance; default) or ``r/√c``, both clipped
        to [−1, 1] (:func:`normalized_score`).
    shuffle : bool
        Random folds (default) or contiguous blocks of stimuli.
    seed : int or numpy.random.Generator
        Seed of the fold draws (outer and inner).
    groups : array (stimuli,), optional
        Group label of each stimulus (concept, category…): a group is never split across folds.
    fold_scaling : {"standardize", "center", "none"}
        How each fold's held-out predictions are pooled: standardised within the fold (default), centred
        only, or as predicted.

    Returns
    -------
    EncodingResult
    """
    check_option(normalize, "normalize", NORMALIZATIONS)
    check_option(fold_scaling, "fold_scaling", FOLD_SCALINGS)
    X, Y = _check_xy(X, Y, "encoding_scores")
    alphas = _check_alphas(alphas, "encoding_scores")
    check_folds(cv, inner_cv, X.shape[0], "encoding_scores")
    groups = _check_groups(groups, X.shape[0], "encoding_scores")
    rng = _fold_rng(shuffle, seed)
    design = _Design(X)
    pred = np.empty(Y.shape, dtype=Y.dtype)
    folds = np.empty(X.shape[0], dtype=int)
    r_folds, alpha_folds = [], []
    for k, (train, test) in enumerate(_folds(X.shape[0], cv, rng, groups)):
        best, state = _fit(design, Y, train, alphas, inner_cv, rng, groups)
        pred[test] = _predict(design, train, state, rows=test)
        folds[test] = k
        r_folds.append(pearson_columns(pred[test], Y[test]))
        alpha_folds.append(alphas[best])
    r = _pooled_r(pred, Y, folds, cv, fold_scaling)
    normalized = None
    if ceiling is not None:
        ceiling = check_array(ceiling, "ceiling", ndim=1).reshape(-1)
        if ceiling.shape != r.shape:
            raise InvalidInputError(f"ceiling has {ceiling.size} entries for {r.size} targets.")
        normalized = normalized_score(r, ceiling, normalize)
    return EncodingResult(r=r, r_folds=np.array(r_folds), alpha=np.array(alpha_folds), ceiling=ceiling,
                          normalized=normalized, predictions=pred, folds=folds)
