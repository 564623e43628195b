"""``neurodata align …``: brain–model alignment from arrays on disk.

    neurodata align encode --features layers.npz --responses regions.npz --out results.nwb
    neurodata align temporal --features layers.npz --meg meg.npy --out results.nwb
    neurodata align similarity A.npy B.npy --out results.nwb

``layers.npz`` holds one (stimuli × features…) array per model layer, in depth order (e.g. saved from
``record_activations`` or reservoir states); ``regions.npz`` one (stimuli × targets) array per brain region,
in hierarchy order; ``meg.npy`` is (stimuli × sensors × times), or the MEG is an MNE FIF file (``-ave.fif``: one
stimulus per evoked condition, in the file's order or ``--conditions``; ``-epo.fif``: one per epoch) read by the
spine's MEG reader, as RSA reads it. Rows are stimuli in the same order everywhere.

The file order is only the default: ``--hierarchy`` gives each region's position in the cortical hierarchy
and ``--layer-depths`` each layer's depth (comma-separated numbers, in the files' order); ``--ceilings`` (an
.npz with one per-target ceiling array per region, by name, or one .npy) turns the profile into the signed,
capped normalised score; ``--groups`` (.npy, one label per stimulus) keeps groups of stimuli in one fold;
``--seed`` draws the folds. The score's shuffled-hierarchy control (``--n-permutations``) is written with it.

    neurodata align encode --features layers.npz --responses regions.npz --out results.nwb
        --hierarchy 0,1,1,2 --layer-depths 0,0.2,0.5,1 --ceilings ceilings.npz       (one command line)
"""

__all__ = ["configure"]

METHODS = ("pearson", "spearman")  # a copy of the correlations spatial_score/temporal_score accept


def _floats(text):
    """Comma-separated numbers (an argparse type: a malformed list is a usage error)."""
    import argparse

    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def configure(subparsers):
    from ..cli import add_common_options, add_figure_option

    p = subparsers.add_parser("align", help="brain–model alignment: encoding profiles, hierarchy scores, CKA")
    sub = p.add_subparsers(dest="align_command", metavar="STEP", required=True)

    def ridge_options(q):
        q.add_argument("--n-folds", type=int, default=5, help="outer folds for the encoding score (default 5)")
        q.add_argument("--n-inner-folds", type=int, default=5, help="folds choosing alpha (default 5)")
        q.add_argument("--groups", default=None, metavar="PATH",
                       help=".npy with one group label per stimulus (e.g. its concept or category); a group is "
                            "never split across folds (default: stimuli are drawn into folds at random with --seed)")
        q.add_argument("--layer-depths", type=_floats, default=None, metavar="D0,D1,...",
                       help="depth of each layer, in the features file's order (default relative depth 0 to 1 in "
                            "that order)")
        q.add_argument("--method", choices=METHODS, default="pearson",
                       help="correlation of the hierarchy score (default pearson)")
        q.add_argument("--n-permutations", type=int, default=1000,
                       help="permutations of the shuffled-hierarchy control of the score (default 1000; 0 skips it)")

    q = sub.add_parser("encode", help="layer × region encoding profile and spatial score")
    q.add_argument("--features", required=True, help=".npz with one array per model layer (depth order)")
    q.add_argument("--responses", required=True, help=".npz with one array per region (hierarchy order) or .npy")
    q.add_argument("--hierarchy", type=_floats, default=None, metavar="P0,P1,...",
                   help="position of each region in the cortical hierarchy, in the responses file's order "
                        "(default 0, 1, 2, ... in that order)")
    q.add_argument("--ceilings", default=None, metavar="PATH",
                   help=".npz with one per-target noise ceiling array per region (same names as --responses) or "
                        ".npy; the profile is then the signed, capped normalised score sign(r) r^2/c in [-1, 1]")
    ridge_options(q)
    add_figure_option(q, "the layer × region profile")
    add_common_options(q, out_help="results NWB file to write")
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
    add_common_options(q, out_help="results NWB file to write")
    q.set_defaults(func=_temporal)

    q = sub.add_parser("similarity", help="linear CKA (biased, debiased) and Procrustes distance of two arrays")
    q.add_argument("first", help=".npy (stimuli × features)")
    q.add_argument("second", help=".npy (stimuli × features)")
    add_common_options(q, seed=False, out_help="results NWB file")
    q.set_defaults(func=_similarity)


def _load(path, what):
    from ..batch.analyses import load_array  # the suite's one .npy/.npz reader for analysis inputs

    return load_array(path, what)


def _check_count(values, n, option, what):
    from ..errors import InvalidInputError

    if values is not None and len(values) != n:
        raise InvalidInputError(f"{option} has {len(values)} values for {n} {what}; give one per {what[:-1]}, in "
                                "the file's order.")


def _groups(args):
    if args.groups is None:
        return None
    import numpy as np

    return np.asarray(_load(args.groups, "groups")).ravel()


def _ceilings(args, regions):
    from ..errors import InvalidInputError

    if args.ceilings is None:
        return None
    ceilings = _load(args.ceilings, "ceilings")
    if not isinstance(ceilings, dict):
        if len(regions) != 1:
            raise InvalidInputError(f"{args.ceilings}: one ceiling array for {len(regions)} regions; save an .npz "
                                    "with one array per region, named as in --responses.")
        ceilings = {next(iter(regions)): ceilings}
    return ceilings


def _control(scores, kind, args, **positions):
    """The shuffled-hierarchy control's p-value (NaN when --n-permutations is 0); called on a defined score."""
    from .profiles import shuffled_hierarchy_control

    if args.n_permutations <= 0:
        return float("nan")
    return shuffled_hierarchy_control(scores, kind=kind, method=args.method, n_permutations=args.n_permutations,
                                      seed=args.seed, **positions).p_value


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
    _check_count(args.hierarchy, len(regions), "--hierarchy", "regions")
    _check_count(args.layer_depths, len(layers), "--layer-depths", "layers")
    ceilings = _ceilings(args, regions)
    profile, lnames, rnames = layer_profile(layers, regions, cv=args.n_folds, inner_cv=args.n_inner_folds,
                                            ceilings=ceilings, seed=args.seed, groups=_groups(args),
                                            verbose=not args.quiet)
    best = best_layers(profile)
    hierarchy = np.arange(len(rnames), dtype=float) if args.hierarchy is None else np.asarray(args.hierarchy)
    depths = np.linspace(0, 1, len(lnames)) if args.layer_depths is None else np.asarray(args.layer_depths)
    defined = len(rnames) > 1 and np.ptp(depths[best]) > 0 and np.ptp(hierarchy) > 0
    positions = {"hierarchy": args.hierarchy, "layer_depths": args.layer_depths}
    score = spatial_score(profile, method=args.method, **positions) if defined else float("nan")
    p_value = _control(profile, "spatial", args, **positions) if defined else float("nan")
    table = pd.DataFrame({"region": rnames, "best_layer": [lnames[b] for b in best]})
    write_results(args.out, analysis="alignment", sources=[args.features, args.responses],
                  parameters={"cv": args.n_folds, "inner_cv": args.n_inner_folds, "layers": lnames,
                              "regions": rnames, "spatial_score": score, "method": args.method,
                              "hierarchy": hierarchy.tolist(), "layer_depths": args.layer_depths,
                              "ceilings": args.ceilings, "groups": args.groups, "seed": args.seed,
                              "profile_score": "normalized" if ceilings is not None else "r",
                              "n_permutations": args.n_permutations, "spatial_p_value": p_value},
                  arrays={"profile": profile}, tables={"best_layers": table}, overwrite=args.overwrite)
    if args.figure:
        plot_profile(profile, lnames, rnames, args.figure)
    if not args.quiet:
        print(f"{len(lnames)} layers × {len(rnames)} regions; spatial score {score:.3f} "
              f"(shuffled-hierarchy p = {p_value:.3g}) → {args.out}")
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
    _check_count(args.layer_depths, len(layers), "--layer-depths", "layers")
    meg, times, meg_params = _load_meg(args)
    tc = temporal_profile(layers, meg, cv=args.n_folds, inner_cv=args.n_inner_folds, seed=args.seed,
                          groups=_groups(args), verbose=not args.quiet)
    if times is None:
        times = np.arange(tc.shape[1]) / args.sfreq if args.sfreq else np.arange(tc.shape[1], dtype=float)
    # as encode: a score that is undefined (every layer peaks at the same time, e.g. with test folds of 2
    # stimuli where only the order of the two predictions counts) is written as NaN, not an error
    depths = np.linspace(0, 1, tc.shape[0]) if args.layer_depths is None else np.asarray(args.layer_depths)
    defined = tc.shape[0] > 1 and np.ptp(times[np.argmax(tc, axis=1)]) > 0 and np.ptp(depths) > 0
    positions = {"times": times, "layer_depths": args.layer_depths}
    score = temporal_score(tc, method=args.method, **positions) if defined else float("nan")
    p_value = _control(tc, "temporal", args, **positions) if defined else float("nan")
    # the layer time courses have a time axis: a TimeSeries, time first (times x layers)
    courses = Traces(tc.T, times=times, channels=list(layers), unit="a.u.", name="time_courses")
    write_results(args.out, analysis="alignment", sources=[args.features, args.meg],
                  parameters={"cv": args.n_folds, "inner_cv": args.n_inner_folds, "layers": list(layers),
                              "temporal_score": score, "sfreq": args.sfreq, "method": args.method,
                              "layer_depths": args.layer_depths, "groups": args.groups, "seed": args.seed,
                              "n_permutations": args.n_permutations, "temporal_p_value": p_value, **meg_params},
                  arrays={"peak_latency": times[np.argmax(tc, axis=1)]}, traces={"time_courses": courses},
                  descriptions={"peak_latency": "time (s) of each layer's best encoding score",
                                "time_courses": "cross-validated encoding score of each layer (time x layers)"},
                  overwrite=args.overwrite)
    if args.figure:
        plot_timecourses(tc, times, list(layers), args.figure, overwrite=args.overwrite)
    if not args.quiet:
        print(f"{len(layers)} layers; temporal score {score:.3f} (shuffled-hierarchy p = {p_value:.3g}) "
              f"→ {args.out}")
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
