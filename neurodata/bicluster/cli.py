"""``neurodata bicluster``: Bayesian bi-clustering of a recording's units (Wei 2023) into a results NWB file.

Runs neurodata.batch.analyses.bicluster, the function ``neurodata batch bicluster`` runs too.
"""


def configure(subparsers):
    from ..batch_cli import add_execution_options
    from ..cli import add_common_options, add_figure_option

    p = subparsers.add_parser("bicluster", help="cluster neurons and time bins of spike counts by MCMC (Wei 2023)")
    p.add_argument("file", help="NWB file with a Units table")
    p.add_argument("--bin-size", type=float, default=0.5, help="bin width in seconds (default 0.5)")
    p.add_argument("--n-iterations", type=int, default=10000, help="MCMC sweeps per chain (default 10000)")
    p.add_argument("--burn-in", type=int, default=None, help="discarded sweeps (default n-iterations // 4)")
    p.add_argument("--thin", type=int, default=10, help="keep every n-th sweep (default 10)")
    p.add_argument("--n-chains", type=int, default=2, help="independent chains (default 2)")
    p.add_argument("--likelihood", choices=("negbin", "poisson"), default="negbin",
                   help="count model (default negbin)")
    p.add_argument("--latent-dim", type=int, default=2, help="p, latent dimension per cluster (default 2)")
    p.add_argument("--checkpoint", default=None, help="checkpoint file; rerun with --resume to continue")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    add_figure_option(p, "co-clustering, states and rates")
    add_execution_options(p)  # the chains run as parallel tasks (--workers, --scheduler)
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=run)


def run(args):
    from ..batch.analyses import bicluster

    params = {"bin_size": args.bin_size, "n_iter": args.n_iterations, "burn_in": args.burn_in, "thin": args.thin,
              "n_chains": args.n_chains, "n_latent": args.latent_dim, "likelihood": args.likelihood,
              "n_jobs": args.workers, "scheduler": args.scheduler, "seed": args.seed}
    m = bicluster(args.file, args.out, params, figure=args.figure, overwrite=args.overwrite,
                  verbose=not args.quiet, checkpoint=args.checkpoint, resume=args.resume)
    if not args.quiet:
        print(f"{m['n_units']} units × {m['n_bins']} bins: {m['n_clusters']} neuron clusters (posterior mode), "
              f"{m['n_states']} states → {args.out}")
    return 0
