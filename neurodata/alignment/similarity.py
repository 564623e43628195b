"""Representational similarity of two stimulus × feature matrices: linear CKA and Procrustes shape distance.

CKA: Kornblith et al. (2019, ICML) — biased (plug-in HSIC) and debiased (unbiased HSIC estimator of Song et
al. 2012, as recommended by Murphy et al. 2024 for few stimuli / many features). Procrustes: the angular
shape metric of Williams et al. (2021, NeurIPS), arccos of the nuclear norm of XᵀY after centring and
unit-Frobenius scaling.
"""
import numpy as np

from ..errors import InvalidInputError
from ..inputs import check_data
from ..utils import check_option

__all__ = ["cka", "procrustes_distance"]


def _pair(X, Y, owner, min_rows=2):
    X = check_data(X, method=owner, name="X", ndim=(1, 2), axes=("stimuli", "features"), min_rows=min_rows)
    Y = check_data(Y, method=owner, name="Y", ndim=(1, 2), axes=("stimuli", "features"), min_rows=min_rows)
    X = X.reshape(X.shape[0], -1)
    Y = Y.reshape(Y.shape[0], -1)
    if X.shape[0] != Y.shape[0]:
        raise InvalidInputError(f"{owner}: X and Y must have the same stimuli (rows); got {X.shape[0]} and "
                                f"{Y.shape[0]}.")
    return X - X.mean(axis=0), Y - Y.mean(axis=0)


def _cross_sq(A, B):
    """||Aᵀ B||_F² = tr(A Aᵀ B Bᵀ), via whichever side is smaller."""
    n = A.shape[0]
    if A.shape[1] * B.shape[1] <= n * n:
        return float(np.sum((A.T @ B) ** 2))
    return float(np.sum((A @ A.T) * (B @ B.T)))


def _hsic_unbiased(A, B):
    """Unbiased HSIC (Song et al. 2012) of linear kernels K = A Aᵀ, L = B Bᵀ, without forming n × n kernels.

    HSIC_u = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2) 1ᵀK̃L̃1] / (n(n−3)), K̃ = K with zero diagonal.
    """
    n = A.shape[0]
    dk = np.einsum("ij,ij->i", A, A)
    dl = np.einsum("ij,ij->i", B, B)
    tr = _cross_sq(A, B) - float(dk @ dl)
    k1 = A @ A.sum(axis=0) - dk  # K̃ 1
    l1 = B @ B.sum(axis=0) - dl  # L̃ 1
    return (tr + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * float(k1 @ l1)) / (n * (n - 3))


def cka(X, Y, debiased=False):
    """Linear centred kernel alignment between X (stimuli × p) and Y (stimuli × q); returns a float.

    Invariant to orthogonal transforms and isotropic scaling of either matrix. The biased estimator is
    inflated for few stimuli relative to features (≈ d/(n+d) for independent data); ``debiased=True`` uses
    unbiased HSIC estimates (needs n >= 4) and is ≈ 0 for independent data.
    """
    X, Y = _pair(X, Y, "cka", min_rows=4 if debiased else 2)
    if debiased:
        xy, xx, yy = _hsic_unbiased(X, Y), _hsic_unbiased(X, X), _hsic_unbiased(Y, Y)
    else:
        xy, xx, yy = _cross_sq(X, Y), _cross_sq(X, X), _cross_sq(Y, Y)
    if xx <= 0 or yy <= 0:
        raise InvalidInputError("cka is undefined when X or Y has no variance across stimuli.")
    return float(xy / np.sqrt(xx * yy))


def procrustes_distance(X, Y, kind="angular"):
    """Orthogonal-Procrustes shape distance between X (stimuli × p) and Y (stimuli × q); returns a float.

    Both are centred and scaled to unit Frobenius norm (feature counts may differ: the smaller is implicitly
    zero-padded). ``angular``: arccos(‖XᵀY‖_*) in [0, π/2]; ``euclidean``: min_Q ‖X − YQ‖_F = sqrt(2 − 2‖XᵀY‖_*).
    """
    check_option(kind, "kind", ("angular", "euclidean"))
    X, Y = _pair(X, Y, "procrustes_distance")
    nx, ny = np.linalg.norm(X), np.linalg.norm(Y)
    if nx == 0 or ny == 0:
        raise InvalidInputError("procrustes_distance is undefined when X or Y has no variance across stimuli.")
    X, Y = X / nx, Y / ny
    if X.shape[1] * Y.shape[1] <= X.shape[0] ** 2:
        nuc = np.linalg.svd(X.T @ Y, compute_uv=False).sum()
    else:  # singular values of XᵀY = sqrt of eigenvalues of (XXᵀ)(YYᵀ) restricted; use n × n factors
        ux, sx, _ = np.linalg.svd(X, full_matrices=False)
        uy, sy, _ = np.linalg.svd(Y, full_matrices=False)
        nuc = np.linalg.svd((sx[:, None] * (ux.T @ uy)) * sy[None, :], compute_uv=False).sum()
    nuc = min(float(nuc), 1.0)
    return float(np.arccos(nuc)) if kind == "angular" else float(np.sqrt(max(2.0 - 2.0 * nuc, 0.0)))
