"""``neurodata align …``: brain–model alignment from arrays on disk.

    neurodata align encode --features layers.npz --responses regions.npz --out results.nwb
    neurodata align temporal --features layers.npz --meg meg.npy --out results.nwb
    neurodata align similarity A.npy B.npy --out results.nwb

``layers.npz`` holds one (stimuli × features…) array per model layer, in depth order (e.g. saved from
``record_activations`` or reservoir states); ``regions.npz`` one (stimuli × targets) array per brain region,
in hierarchy order; ``meg.npy`` is (stimuli × sensors × times), or the MEG is an MNE FIF file (``-ave.fif``: one
stimulus per evoked condition, in the file's order or ``--conditions``; ``-epo.fif``: one per epoch) read by the
spine's MEG reader, as RSA reads it. Rows are stimuli in the same order everywhere.
"""

__all__ = ["configure"]


def configure(subparsers):
    from ..cli import add_common_options, add_figure_option

    p = subparsers.add_parser("align", help="brain–model alignment: encoding profiles, hierarchy scores, CKA")
    sub = p.add_subparsers(dest="align_command", metavar="STEP", required=True)

    def ridge_options(q):
        q.add_argument("--n-folds", type=int, default=5, help="outer folds for the encoding score (default 5)")
        q.add_argument("--n-inner-folds", type=int, default=5, help="folds choosing alpha (default 5)")

    q = sub.add_parser("encode", help="layer × region encoding profile and spatial score")
    q.add_argument("--features", required=True, help=".npz with one array per model layer (depth order)")
    q.add_argument("--responses", required=True, help=".npz with one array per region (hierarchy order) or .npy")
    ridge_options(q)
    add_figure_option(q, "the layer × region profile")
    add_common_options(q, seed=False, out_help="results NWB file to write")
    q.set_defaults(func=_encode)

    q = sub.add_parser("temporal", help="layer × time encoding of MEG and temporal score")
    q.add_argument("--features", required=True, help=".npz with one array per model layer (depth order)")
    q.add_argument("--meg", required=True,
                   help=".npy (stimuli x sensors x times) or an MNE FIF file (-ave.fif evoked conditions or "
                        "-epo.fif epochs as the stimuli)")
    q.add_argument("--sfreq", type=float, default=None,
                   help=".npy MEG: sampling rate (Hz) to report latencies in s (a FIF file gives its own)")
    q.add_argument("--picks", default="meg",
                   help="FIF MEG: channels to keep, a channel type or comma-separated names (default meg: "
                            "magnetometers and gradiometers; see io.read_mne)")
    q.add_argument("--conditions", default=None,
                   help="FIF MEG: comma-separated condition names giving the order of the stimuli "
                        "(default the file's order)")
    ridge_options(q)
    add_figure_option(q, "the layer time courses")
    add_common_options(q, seed=False, out_help="results NWB file to write")
    q.set_defaults(func=_temporal)

    q = sub.add_parser("similarity", help="linear CKA (biased, debiased) and Procrustes distance of two arrays")
    q.add_argument("first", help=".npy (stimuli × features)")
    q.add_argument("second", help=".npy (stimuli × features)")
    add_common_options(q, seed=False, out_help="results NWB file")
    q.set_defaults(func=_similarity)


def _load(path, what):
    from ..batch.analyses import load_array  # the suite's one .npy/.npz reader for analysis inputs

    return load_array(path, what)


def _encode(args):
    import numpy as np
    import pandas as pd

    from ..io import write_results
    from .activations import as_activations
    from .figures import plot_profile
    from .profiles import best_layers, layer_profile, spatial_score

    layers = as_activations(_load(args.features, "features"))
    regions = _load(args.responses, "responses")
    regions = regions if isinstance(regions, dict) else {"region0": regions}
    profile, lnames, rnames = layer_profile(layers, regions, cv=args.n_folds, inner_cv=args.n_inner_folds,
                                            verbose=not args.quiet)
    best = best_layers(profile)
    score = spatial_score(profile) if len(rnames) > 1 and np.ptp(best) > 0 else float("nan")
    table = pd.DataFrame({"region": rnames, "best_layer": [lnames[b] for b in best]})
    write_results(args.out, analysis="alignment", sources=[args.features, args.responses],
                  parameters={"cv": args.n_folds, "inner_cv": args.n_inner_folds, "layers": lnames,
                              "regions": rnames, "spatial_score": score},
                  arrays={"profile": profile}, tables={"best_layers": table}, overwrite=args.overwrite)
    if args.figure:
        plot_profile(profile, lnames, rnames, args.figure)
    if not args.quiet:
        print(f"{len(lnames)} layers × {len(rnames)} regions; spatial score {score:.3f} → {args.out}")
    return 0


def _load_meg(args):
    """(stimuli × sensors × times) MEG and its times (s, or sample indices without a rate): a FIF file through
    the spine's MEG reader (condition-first, each channel type scaled to unit RMS as RSA does, so magnetometers
    in T and gradiometers in T/m weigh alike), else a .npy array."""
    import numpy as np

    if ".fif" in str(args.meg).lower():
        from ..rsa.responses import responses_from_mne

        conditions = [c.strip() for c in args.conditions.split(",")] if args.conditions else None
        resp = responses_from_mne(args.meg, picks=args.picks, conditions=conditions)
        meg = resp.trials if resp.trials is not None else resp  # evoked: the responses declare their axes
        return meg, np.asarray(resp.times, dtype=float), {"picks": args.picks, "conditions": list(resp.conditions)}
    meg = _load(args.meg, "MEG")
    n_times = meg.shape[-1] if hasattr(meg, "shape") and meg.ndim == 3 else None
    if n_times is None:
        return meg, None, {}
    times = np.arange(n_times) / args.sfreq if args.sfreq else np.arange(n_times, dtype=float)
    return meg, times, {"sfreq": args.sfreq}


def _temporal(args):
    import numpy as np

    from ..io import Traces, write_results
    from .activations import as_activations
    from .figures import plot_timecourses
    from .profiles import temporal_profile, temporal_score

    layers = as_activations(_load(args.features, "features"))
    meg, times, meg_params = _load_meg(args)
    tc = temporal_profile(layers, meg, cv=args.n_folds, inner_cv=args.n_inner_folds, verbose=not args.quiet)
    if times is None:
        times = np.arange(tc.shape[1]) / args.sfreq if args.sfreq else np.arange(tc.shape[1], dtype=float)
    score = temporal_score(tc, times=times)
    # the layer time courses have a time axis: a TimeSeries, time first (times x layers)
    courses = Traces(tc.T, times=times, channels=list(layers), unit="a.u.", name="time_courses")
    write_results(args.out, analysis="alignment", sources=[args.features, args.meg],
                  parameters={"cv": args.n_folds, "inner_cv": args.n_inner_folds, "layers": list(layers),
                              "temporal_score": score, "sfreq": args.sfreq, **meg_params},
                  arrays={"peak_latency": times[np.argmax(tc, axis=1)]}, traces={"time_courses": courses},
                  descriptions={"peak_latency": "time (s) of each layer's best encoding score",
                                "time_courses": "cross-validated encoding score of each layer (time x layers)"},
                  overwrite=args.overwrite)
    if args.figure:
        plot_timecourses(tc, times, list(layers), args.figure, overwrite=args.overwrite)
    if not args.quiet:
        print(f"{len(layers)} layers; temporal score {score:.3f} → {args.out}")
    return 0


def _similarity(args):
    from ..io import write_results
    from .similarity import cka, procrustes_distance

    a, b = _load(args.first, "array"), _load(args.second, "array")
    values = {"cka": cka(a, b), "cka_debiased": cka(a, b, debiased=True),
              "procrustes_angular": procrustes_distance(a, b)}
    write_results(args.out, analysis="alignment", sources=[args.first, args.second], parameters=values,
                  overwrite=args.overwrite)
    if not args.quiet:
        print("  ".join(f"{k} {v:.4f}" for k, v in values.items()) + f" → {args.out}")
    return 0
