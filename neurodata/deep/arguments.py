"""The suite's command-line grammar for torch: ``--torch-device`` and ``--torch-threads``.

Kept apart from ``--device`` (a Brian2 device) and ``--threads`` (OpenMP) so one spelling means one thing.
"""
import argparse

from .runtime import DEVICES

__all__ = ["add_torch_arguments"]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_torch_arguments(parser, *, device_default="auto"):
    """Add ``--torch-device {cpu,cuda,auto}`` and ``--torch-threads N`` to an argparse parser (or group).

    They arrive as ``args.torch_device`` and ``args.torch_threads`` (None: torch's own default), ready for an
    estimator's ``device=`` and ``n_threads=``. Returns the parser.
    """
    parser.add_argument("--torch-device", dest="torch_device", choices=DEVICES, default=device_default,
                        help=f"torch device; auto picks CUDA when torch sees a GPU (default {device_default})")
    parser.add_argument("--torch-threads", dest="torch_threads", type=_positive_int, default=None, metavar="N",
                        help="torch CPU threads, restored afterwards (default: torch's own)")
    return parser
