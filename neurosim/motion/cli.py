"""``neurosim motion events|train|evaluate|prune`` — the heterogeneous-delay motion detector from the shell.

Light to import: torch and Brian2 load inside the handlers.
"""
from neurodata.cli import add_common_options, add_figure_option
from neurodata.deep import add_torch_arguments


def configure(subparsers):
    parser = subparsers.add_parser("motion", help="heterogeneous-delay spiking motion detector "
                                                  "(Grimaldi & Perrinet 2023)")
    sub = parser.add_subparsers(dest="motion_command", metavar="ACTION", required=True)

    p = sub.add_parser("events", help="event movies from natural images on saccade-like walks -> NWB")
    _config_options(p)
    p.add_argument("--n-movies", type=int, default=1, help="number of movies (default 1)")
    p.add_argument("--constant", action="store_true", help="one motion per movie (no label switches)")
    add_common_options(p, out_help="NWB file to write")
    p.set_defaults(func=_events)

    p = sub.add_parser("train", help="train the delay kernel on generated (or NWB) event movies")
    _config_options(p)
    p.add_argument("--events", default=None, help="NWB file of labelled event movies (default: generate)")
    p.add_argument("--n-movies", type=int, default=None, help="training movies to generate (default: card)")
    p.add_argument("--n-epochs", type=int, default=None, help="training epochs (default: card)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: card)")
    add_torch_arguments(p)
    p.add_argument("--checkpoint", default=None, help="checkpoint file, saved every epoch and resumed from")
    add_common_options(p, out_help="trained detector file (.pt)")
    p.set_defaults(func=_train)

    p = sub.add_parser("evaluate", help="held-out accuracy per time step; writes a results NWB file")
    _eval_options(p)
    p.add_argument("--readout", choices=("mean", "top", "softmax"), default=None,
                   help="pooling over space: mean evidence (paper), top 15%% voxels (notebook), mean probability "
                        "(default: the model's configuration)")
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("prune", help="accuracy vs number of weights (magnitude pruning and delay shortening)")
    _eval_options(p)
    p.add_argument("--n-fractions", type=int, default=12, help="fractions of weights on a log grid")
    p.add_argument("--count", choices=("dense", "nonzero"), default="dense",
                   help="fractions of the dense kernel (paper) or of its non-zero taps (default dense)")
    add_figure_option(p, "the pruning curve")
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=_prune)


def _config_options(p):
    p.add_argument("--config", default="reduced", choices=("reduced", "paper"),
                   help="model-card configuration (default reduced)")


def _eval_options(p):
    p.add_argument("model", help="trained detector file from 'neurosim motion train'")
    p.add_argument("--events", default=None, help="NWB file of labelled held-out movies (default: generate)")
    p.add_argument("--n-movies", type=int, default=None, help="held-out movies to generate (default: card)")
    add_torch_arguments(p)


def _events(args):
    import math

    from .config import get_config
    from .events import make_dataset, write_events

    config = get_config(args.config)
    data = make_dataset(config, args.n_movies, seed=args.seed, block_length=math.inf if args.constant else None,
                        verbose=not args.quiet)
    write_events(args.out, data.events, data.labels, dt=config.dt, config=config, overwrite=args.overwrite)
    print(f"{args.out}: {len(data)} movie(s), event density {data.density:.4f}")
    return 0


def _held_out(args, config):
    from neurodata.errors import InvalidInputError

    from .events import make_dataset, read_events

    if args.events:
        events, labels, _ = read_events(args.events)
        if labels is None:
            raise InvalidInputError(f"{args.events} has no motion_labels table; evaluation needs labels.")
        return events, labels
    n = args.n_movies or config.n_test
    data = make_dataset(config, n, seed=10_000 + args.seed, block_length=config.test_block_length)
    return data.events, data.labels


def _train(args):
    from .config import get_config
    from .events import make_dataset, read_events
    from .model import HeterogeneousDelayClassifier

    config = get_config(args.config)
    if args.events:
        events, labels, _ = read_events(args.events)
        if labels is None:
            from neurodata.errors import InvalidInputError
            raise InvalidInputError(f"{args.events} has no motion_labels table; training needs labels.")
    else:
        data = make_dataset(config, args.n_movies or config.n_train, seed=args.seed, verbose=not args.quiet)
        events, labels = data.events, data.labels
    clf = HeterogeneousDelayClassifier(config=config, epochs=args.n_epochs, lr=args.lr, device=args.torch_device,
                                       n_threads=args.torch_threads, checkpoint=args.checkpoint, seed=args.seed,
                                       verbose=not args.quiet)
    clf.fit(events, labels).save(args.out, overwrite=args.overwrite)
    print(f"{args.out}: {clf.n_epochs_done_} epochs, final loss {clf.history_[-1]['loss']:.4f}")
    return 0


def _model_and_held_out(args):
    """The trained detector of --model and the held-out movies (--events, or generated from its config)."""
    from .model import HeterogeneousDelayClassifier

    clf = HeterogeneousDelayClassifier.load(args.model, device=args.torch_device, n_threads=args.torch_threads)
    return (clf, *_held_out(args, clf.config_))


def _evaluate(args):
    from neurodata.io import write_results

    clf, events, labels = _model_and_held_out(args)
    evidence = clf.evidence(events, readout=args.readout)
    skip = clf.config_.kernel_size[0] - 1
    predicted = evidence.argmax(axis=1)
    accuracy = float((predicted[:, skip:] == labels[:, skip:]).mean())
    write_results(args.out, analysis="motion_evaluation", sources=[args.model] + ([args.events] if args.events else []),
                  parameters={"config": clf.config_.to_dict(), "skip_steps": skip, "accuracy": accuracy,
                              "readout": args.readout or clf.config_.readout},
                  arrays={"evidence": evidence, "predicted": predicted, "labels": labels}, overwrite=args.overwrite)
    print(f"accuracy per time step {accuracy:.4f} (chance {1 / clf.config_.n_classes:.4f}) -> {args.out}")
    return 0


def _prune(args):
    import numpy as np
    import pandas as pd

    from neurodata.io import write_results

    from .prune import fit_sigmoid, half_accuracy_point, pruning_curve, shortening_curve

    clf, events, labels = _model_and_held_out(args)
    n_total = clf.kernel_.size if args.count == "dense" else np.count_nonzero(clf.kernel_)
    chance = 1 / clf.config_.n_classes
    curve = pruning_curve(clf, events, labels, fractions=np.geomspace(1, 1 / n_total, args.n_fractions),
                          methods=("magnitude",), count=args.count, verbose=not args.quiet)
    short = shortening_curve(clf, events, labels, verbose=not args.quiet)
    if args.count == "nonzero":
        short["fraction"] = short["n_weights"] / n_total
    both = pd.concat([curve, short.drop(columns="n_delays")], ignore_index=True)
    half, fits = {}, {}
    for method, rows in (("magnitude", curve), ("shortening", short)):
        # a 3-parameter sigmoid (floor at chance) needs 4 points; fewer leave the half point unmeasured (NaN)
        half[method] = half_accuracy_point(both, method, chance=chance) if len(rows) >= 4 else float("nan")
        if np.isfinite(half[method]):
            fit = fit_sigmoid(both, method, chance=chance)
            fits[method] = {"high": fit.high, "log10_half": fit.log10_half, "width": fit.width, "rmse": fit.rmse}
    write_results(args.out, analysis="motion_pruning", sources=[args.model],
                  tables={"pruning_curve": curve, "shortening_curve": short},
                  parameters={"half_accuracy_weights": half["magnitude"],
                              "half_accuracy_weights_shortening": half["shortening"], "sigmoid_fits": fits,
                              "count": args.count, "n_weights_dense": int(clf.kernel_.size),
                              "n_weights": int(np.count_nonzero(clf.kernel_))}, overwrite=args.overwrite)
    if args.figure:
        from .plots import plot_pruning_curve
        plot_pruning_curve(both, chance=chance, path=args.figure, overwrite=args.overwrite)
    print(both.to_string(index=False))
    print(f"half accuracy (sigmoid fit) with about {half['magnitude']:.0f} weights (magnitude) and "
          f"{half['shortening']:.0f} (shortening) of {clf.kernel_.size} dense -> {args.out}")
    return 0
