"""``neurodata mmgpvae``: multi-modal GP-VAE latents of a recording's modalities (Gondur 2023) into a results NWB.

Example: ``neurodata mmgpvae FILE.nwb --modality units --modality CompassDirection --out latents.nwb``.
"""


def configure(subparsers):
    from ..cli import add_common_options, add_figure_option
    from ..deep import add_torch_arguments

    p = subparsers.add_parser("mmgpvae", help="shared and private GP latents of several modalities (Gondur 2023)")
    p.add_argument("file", help="NWB file holding the modalities")
    p.add_argument("--modality", action="append", required=True, metavar="NAME",
                   help="'units' (binned spike counts), a behavioural series or container (CompassDirection, "
                        "Position/x) or an ophys series; give it once per modality, at least once")
    p.add_argument("--bin-size", type=float, default=0.1, help="bin width in seconds (default 0.1)")
    p.add_argument("--n-trial-bins", type=int, default=60, help="bins per trial (default 60, the paper's)")
    p.add_argument("--n-shared", type=int, default=1, help="latents shared by all modalities (default 1)")
    p.add_argument("--n-private", type=int, default=1, help="private latents per modality (default 1)")
    p.add_argument("--n-epochs", type=int, default=700, help="training epochs (default 700, the reference's)")
    p.add_argument("--n-batch-trials", type=int, default=20, help="trials per batch (default 20)")
    p.add_argument("--objective", choices=("corrected", "reference"), default="corrected",
                   help="the corrected ELBO, or the reference code's loss with its quirks (default corrected)")
    p.add_argument("--domain", choices=("fourier", "time"), default="fourier", help="GP prior domain")
    p.add_argument("--validation-fraction", type=float, default=0.0,
                   help="share of trials (the last) monitored for early stopping (default 0)")
    p.add_argument("--n-patience-epochs", type=int, default=None,
                   help="stop early after this many epochs without a better validation ELBO")
    p.add_argument("--checkpoint", default=None, help="checkpoint file; an existing one is resumed")
    add_torch_arguments(p)
    add_figure_option(p, "latents and reconstructions")
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=run)


def run(args):
    from ..utils import check_output_path
    from .estimator import MMGPVAE
    from .io import read_modalities, write_mmgpvae_results

    check_output_path(args.out, overwrite=args.overwrite, inputs=[args.file], suffix=".nwb")
    binned = read_modalities(args.file, args.modality, bin_size=args.bin_size, n_bins=args.n_trial_bins)
    model = MMGPVAE(n_shared=args.n_shared, n_private=args.n_private, epochs=args.n_epochs, batch_size=args.n_batch_trials,
                    objective=args.objective, domain=args.domain, validation_fraction=args.validation_fraction,
                    patience=args.n_patience_epochs, checkpoint=args.checkpoint, device=args.torch_device,
                    n_threads=args.torch_threads, seed=args.seed, verbose=not args.quiet)
    model.fit(binned.data)
    path = write_mmgpvae_results(args.out, model, binned, sources=[args.file], overwrite=args.overwrite)
    if args.figure:
        from .plotting import plot_mmgpvae
        plot_mmgpvae(model, binned.data, args.figure)
    if not args.quiet:
        print(f"{binned.n_trials} trials × {binned.n_bins} bins of {', '.join(binned.data)}: latents "
              f"{', '.join(model.latent_names_)} (length scales {', '.join(f'{v * args.bin_size:.2f}' for v in model.length_scale_)} s) → {path}")
    return 0
