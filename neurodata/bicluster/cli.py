"""``neurodata bicluster``: Bayesian bi-clustering of a recording's units (Wei 2023) into a results NWB file."""


def configure(subparsers):
    from ..batch_cli import add_execution_options
    from ..cli import add_common_options

    p = subparsers.add_parser("bicluster", help="cluster neurons and time bins of spike counts by MCMC (Wei 2023)")
    p.add_argument("file", help="NWB file with a Units table")
    p.add_argument("--bin-size", type=float, default=0.5, help="bin width in seconds (default 0.5)")
    p.add_argument("--iterations", type=int, default=10000, help="MCMC sweeps per chain (default 10000)")
    p.add_argument("--burn-in", type=int, default=None, help="discarded sweeps (default iterations // 4)")
    p.add_argument("--thin", type=int, default=10, help="keep every n-th sweep (default 10)")
    p.add_argument("--chains", type=int, default=2, help="independent chains (default 2)")
    p.add_argument("--likelihood", choices=("negbin", "poisson"), default="negbin")
    p.add_argument("--latent-dim", type=int, default=2, help="p, latent dimension per cluster (default 2)")
    p.add_argument("--checkpoint", default=None, help="checkpoint file; rerun with --resume to continue")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--figure", default=None, help="PNG figure path (default: next to --out)")
    add_execution_options(p)  # the chains run as parallel tasks (--workers, --scheduler)
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=run)


def run(args):
    from pathlib import Path

    from ..io import read_spikes
    from .estimator import BiclusterMCMC
    from .io import write_bicluster_results
    from .plotting import plot_bicluster

    counts = read_spikes(args.file).count(args.bin_size)
    model = BiclusterMCMC(n_iter=args.iterations, burn_in=args.burn_in, thin=args.thin, n_chains=args.chains,
                          n_latent=args.latent_dim, likelihood=args.likelihood, checkpoint=args.checkpoint,
                          resume=args.resume, n_jobs=args.workers, scheduler=args.scheduler, seed=args.seed,
                          verbose=not args.quiet)
    model.fit(counts)
    write_bicluster_results(args.out, model, counts, sources=[args.file],
                            extra={"bin_size": args.bin_size})
    fig = args.figure or str(Path(args.out).with_suffix(".png"))
    plot_bicluster(model, fig, times=counts.times)
    if not args.quiet:
        print(f"{model.n_neurons_} units × {model.n_bins_} bins: {model.labels_.max() + 1} neuron clusters, "
              f"{model.states_.max() + 1} states → {args.out}, {fig}")
    return 0
