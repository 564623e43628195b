"""``neurosim dendrites theory|simulate``: exact tables and Brian2 runs of active-dendrite neurons on SDRs.

The paper's symbols map onto the suite's count options: n → --n-inputs, a → --n-active, s → --n-synapses,
v → --n-noise, m → --n-patterns; θ stays --theta (a threshold, not a count).
"""
from neurodata.cli import add_common_options, add_figure_option


def configure(subparsers):
    """Add ``dendrites`` with its ``theory`` and ``simulate`` subcommands."""
    top = subparsers.add_parser("dendrites", help="active-dendrite neurons on SDRs (Ahmad & Hawkins 2016)")
    sub = top.add_subparsers(dest="dendrites_command", metavar="{theory,simulate}", required=True)

    p = sub.add_parser("theory", help="exact false-positive / false-negative / union probabilities and the "
                                      "NMDA-threshold sweep")
    p.add_argument("--n-inputs", type=int, default=10000, help="population size n (default 10000)")
    p.add_argument("--n-active", type=int, default=300, help="active cells a (default 300)")
    p.add_argument("--n-synapses", type=int, default=24, help="synapses per segment s (default 24)")
    p.add_argument("--theta", type=int, default=12, help="NMDA threshold θ (default 12)")
    p.add_argument("--n-noise", type=int, default=None, help="also print P_FN with v of the a cells replaced")
    p.add_argument("--n-patterns", type=int, default=None,
                   help="also print the union false-positive rate for m patterns")
    p.add_argument("--sweep", action="store_true", help="print the paper's threshold sweep (median P_FP per θ)")
    add_figure_option(p, "the P_FP-vs-θ and noise figure")
    add_common_options(p, out=False, seed=False)
    p.set_defaults(func=_theory)

    p = sub.add_parser("simulate", help="Brian2 neurons with NMDA segments: measured vs theoretical rates → NWB")
    p.add_argument("--n-inputs", type=int, default=1000, help="input population size n (default 1000)")
    p.add_argument("--n-active", type=int, default=40, help="active input cells a per SDR (default 40)")
    p.add_argument("--n-neurons", type=int, default=40, help="neurons (default 40)")
    p.add_argument("--n-segments", type=int, default=10, help="segments per neuron (default 10)")
    p.add_argument("--n-synapses", type=int, default=20, help="synapses per stored pattern s (default 20)")
    p.add_argument("--theta", type=int, default=4, help="NMDA threshold θ (default 4)")
    p.add_argument("--n-patterns", type=int, default=1, help="patterns m stored per segment (union; default 1)")
    p.add_argument("--n-noise", type=int, default=0, help="cells v replaced in learned presentations (default 0)")
    p.add_argument("--n-random", type=int, default=100, help="windows with random SDRs (default 100)")
    p.add_argument("--n-learned", type=int, default=0, help="windows with (noisy) learned SDRs (default 0)")
    p.add_argument("--shared-patterns", action="store_true",
                   help="segment k of every neuron stores the same pattern (many FN trials per window)")
    p.add_argument("--target", default="numpy", choices=("numpy", "cython"),
                   help="code generation target of Brian2's runtime device (default numpy)")
    add_figure_option(p, "the simulated rates against theory")
    add_common_options(p, out_help="NWB file to write (spikes, plateaus, soma potential, windows, rates)")
    p.set_defaults(func=_simulate)


def _theory(args):
    from . import theory

    n, a, s, theta = args.n_inputs, args.n_active, args.n_synapses, args.theta
    print(f"n={n} a={a} s={s} theta={theta}")
    print(f"P_FP = {theory.p_false_positive(n, a, s, theta):.6e}")
    if args.n_noise is not None:
        print(f"P_FN(v={args.n_noise}) = {theory.p_false_negative(a, s, theta, args.n_noise):.6e}")
    if args.n_patterns is not None:
        m = args.n_patterns
        print(f"P_union(m={m}) = {theory.p_union_false_positive(n, a, theta, m):.6e} "
              f"(exact union size: {theory.p_union_false_positive_exact(n, a, theta, m):.6e})")
    if args.sweep:
        sweep = theory.threshold_sweep()
        print(f"{'theta':>5} {'median':>12} {'mean':>12} {'min':>12} {'max':>12}")
        for row in zip(sweep["theta"], sweep["median"], sweep["mean"], sweep["min"], sweep["max"]):
            print(f"{row[0]:>5d} " + " ".join(f"{x:12.4e}" for x in row[1:]))
        print(f"median P_FP < 1e-7 from theta = {theory.optimal_threshold(1e-7)}")
    if args.figure:
        from .figures import theory_figure
        theory_figure(args.figure, overwrite=args.overwrite)
        print(f"figure → {args.figure}")
    return 0


def _simulate(args):
    from .experiment import rates_table, run_experiment, write_run

    model, run, summary = run_experiment(
        n_inputs=args.n_inputs, n_active=args.n_active, n_neurons=args.n_neurons, n_segments=args.n_segments,
        n_synapses=args.n_synapses, theta=args.theta, patterns_per_segment=args.n_patterns,
        noise=args.n_noise, n_random=args.n_random, n_learned=args.n_learned, shared_patterns=args.shared_patterns,
        target=args.target, seed=args.seed, verbose=not args.quiet)
    write_run(args.out, model, run, summary, overwrite=args.overwrite)
    if args.figure:
        from .figures import theory_figure
        theory_figure(args.figure, summary=summary, overwrite=args.overwrite)
    if not args.quiet:
        print(rates_table(summary).to_string(index=False))
        print(f"{summary['simulated_seconds']:.2f} s simulated in {summary['wall_seconds']:.1f} s → {args.out}")
    return 0
