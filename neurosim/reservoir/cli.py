"""``neurosim reservoir``: run the standard what/when/how-likely experiment and write it to NWB."""


def configure(subparsers):
    from neurodata.cli import add_common_options

    from ..backends import DEVICES

    p = subparsers.add_parser("reservoir", help="Izhikevich reservoir with three-factor what/when readouts "
                                                "(Yamada & Chao 2025)")
    p.add_argument("--n-trials", type=int, default=320, help="number of trials (default 320)")
    p.add_argument("--n-neurons", type=int, default=1000, help="reservoir size (default 1000)")
    p.add_argument("--device", default="runtime", choices=DEVICES, help="Brian2 device (default runtime)")
    p.add_argument("--openmp-threads", type=int, default=None, help="OpenMP threads for cpp_standalone")
    add_common_options(p, out_help="NWB file to write")
    p.set_defaults(func=_run)
    return p


def _run(args):
    from neurodata.utils import check_scalar

    from .experiment import run_experiment
    from .nwb import result_to_nwb

    check_scalar(args.n_trials, "n_trials", "neurosim reservoir", kind=int, low=8)
    check_scalar(args.n_neurons, "n_neurons", "neurosim reservoir", kind=int, low=10)
    result = run_experiment(args.n_trials, n_neurons=args.n_neurons, device=args.device,
                            threads=args.openmp_threads, seed=args.seed)
    result_to_nwb(result, args.out, overwrite=args.overwrite)
    return 0
