"""Ridge encoding with one alpha per target: ours vs himalaya RidgeCV and scikit-learn RidgeCV, in one run.

Full scale (issue 5): 1000 stimuli × 4096 features × 10⁴ targets (float32), 5-fold CV over 13 alphas;
scores are Pearson r per target on 200 held-out stimuli. Quick: 500 × 1024 × 2000.
scikit-learn's RidgeCV picks alphas by efficient leave-one-out (GCV), not K-fold, so its alphas can differ.
"""
import warnings

import numpy as np

from _timing import timed


def _data(n, p, t, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + 200, p)).astype(np.float32)
    W = (rng.standard_normal((p, t)) / np.sqrt(0.1 * p)).astype(np.float32)
    W *= (rng.random(p) < 0.1)[:, None]  # a tenth of the features carry signal
    noise = rng.uniform(0.3, 3.0, t).astype(np.float32)
    Y = X @ W + noise * rng.standard_normal((n + 200, t)).astype(np.float32)
    return X[:n], Y[:n], X[n:], Y[n:]


def bench_ridge_encoding(quick=True):
    """Ridge encoding with one alpha per target, 5-fold CV over the alphas (contiguous folds on both sides):
    ours (neurodata.alignment.RidgeEncoder) vs himalaya RidgeCV (baseline); scikit-learn RidgeCV as an extra."""
    from neurodata.alignment import DEFAULTS, RidgeEncoder, pearson_columns

    n, p, t = (500, 1024, 2000) if quick else (1000, 4096, 10_000)
    X, Y, Xt, Yt = _data(n, p, t)
    alphas = np.asarray(DEFAULTS.alphas)

    fitted = {}

    def ours():
        # contiguous inner folds, as himalaya's cv=5: the same alphas on both sides (ours shuffle by default)
        fitted["ours"] = RidgeEncoder(alphas=alphas, cv=5, shuffle=False).fit(X, Y)
        return fitted["ours"].predict(Xt)

    def himalaya_fit():
        from himalaya.ridge import RidgeCV

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted["himalaya"] = RidgeCV(alphas=alphas, cv=5, solver_params={"warn": False}).fit(X, Y)
            return fitted["himalaya"].predict(Xt)

    def sklearn_fit():
        from sklearn.linear_model import RidgeCV

        return RidgeCV(alphas=alphas, alpha_per_target=True).fit(X, Y).predict(Xt)

    pred_o, t_o, m_o = timed(ours)
    pred_h, t_h, m_h = timed(himalaya_fit)
    pred_s, t_s, m_s = timed(sklearn_fit)
    r_o, r_h, r_s = (pearson_columns(np.asarray(pr, dtype=np.float64), Yt.astype(np.float64))
                     for pr in (pred_o, pred_h, pred_s))
    return {"name": f"ridge encoding {n}x{p}x{t}", "ours": t_o, "baseline": t_h, "baseline_name": "himalaya RidgeCV",
            "sklearn_RidgeCV_s": t_s, "ratio_vs_sklearn": t_s / t_o,
            "peak_mib_ours": m_o, "peak_mib_himalaya": m_h, "peak_mib_sklearn": m_s,
            "mean_r_ours": float(r_o.mean()), "mean_r_himalaya": float(r_h.mean()), "mean_r_sklearn": float(r_s.mean()),
            "max_abs_r_diff_vs_himalaya": float(np.max(np.abs(r_o - r_h))),
            "same_alpha_as_himalaya": float(np.mean(np.isclose(fitted["ours"].alpha_,
                                                               np.asarray(fitted["himalaya"].best_alphas_))))}
