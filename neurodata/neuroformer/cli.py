"""neurodata neuroformer pretrain|generate|attention: Neuroformer (Antoniades et al. 2023) on a Units table.

Examples:
    neurodata neuroformer pretrain FILE.nwb --out results.nwb --model-out model.pt --n-epochs 10
    neurodata neuroformer generate FILE.nwb --model model.pt --out generated.nwb --n-top-tokens 10
    neurodata neuroformer attention FILE.nwb --model model.pt --out connectivity.nwb
"""


def _positive_float(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _saved_model_arguments(parser, file_help, verb):
    """What the commands on a saved model share: the recording, the model file, a time range, torch options."""
    parser.add_argument("file", help=file_help)
    parser.add_argument("--model", required=True, help="model file written by pretrain --model-out")
    parser.add_argument("--start", type=float, default=None, help=f"first time (s) to {verb}")
    parser.add_argument("--end", type=float, default=None, help=f"last time (s) to {verb}")
    from ..deep import add_torch_arguments

    add_torch_arguments(parser)


def configure(subparsers):
    from ..cli import add_common_options, add_figure_option
    from ..deep import add_torch_arguments

    p = subparsers.add_parser("neuroformer", help="generative pretraining on spike tokens (Antoniades 2023)")
    sub = p.add_subparsers(dest="neuroformer_command", required=True, metavar="{pretrain,generate,attention}")

    pre = sub.add_parser("pretrain", help="pretrain on the training time blocks; held-out scores and attention "
                                          "connectivity to a results NWB")
    pre.add_argument("file", help="NWB file with a Units table")
    pre.add_argument("--window", type=_positive_float, default=0.05, help="current window in s (default 0.05)")
    pre.add_argument("--past", type=_positive_float, default=0.15, help="past window in s (default 0.15)")
    pre.add_argument("--n-epochs", type=int, default=10, help="training epochs (default 10)")
    pre.add_argument("--n-batch-windows", type=int, default=32, help="windows per batch (default 32, the "
                                                                     "reference's)")
    pre.add_argument("--n-embedding-dims", type=int, default=256, help="embedding width (default 256)")
    pre.add_argument("--n-heads", type=int, default=8, help="attention heads (default 8)")
    pre.add_argument("--n-layers", type=int, default=6,
                     help="blocks of each stack: current encoder, cross-attention, self-attention (default 6)")
    pre.add_argument("--n-past-layers", type=int, default=0, help="past-state encoder blocks (default 0)")
    pre.add_argument("--lr", type=_positive_float, default=1e-4, help="AdamW learning rate (default 1e-4)")
    pre.add_argument("--test-fraction", type=float, default=0.2,
                     help="share of the contiguous time blocks held out (default 0.2)")
    pre.add_argument("--n-blocks", type=int, default=10, help="contiguous time blocks (default 10)")
    pre.add_argument("--model-out", default=None, help="also save the model (torch file) here")
    pre.add_argument("--checkpoint", default=None, help="training checkpoint; an existing one is resumed")
    add_torch_arguments(pre)
    add_figure_option(pre, "the attention connectivity")
    add_common_options(pre, out_help="results NWB file to write")
    pre.set_defaults(func=run_pretrain)

    gen = sub.add_parser("generate", help="sample spike trains with a saved model (real past windows)")
    _saved_model_arguments(gen, "NWB file with a Units table (its past windows condition the samples)", "generate")
    gen.add_argument("--temperature", type=_positive_float, default=1.0, help="sampling temperature (default 1)")
    gen.add_argument("--n-top-tokens", type=int, default=None, help="top-k sampling: keep only the k likeliest tokens")
    gen.add_argument("--top-p", type=_positive_float, default=None, help="nucleus sampling threshold in (0, 1]")
    add_figure_option(gen, "a generated vs recorded raster")
    add_common_options(gen, out_help="NWB file for the generated spikes")
    gen.set_defaults(func=run_generate)

    att = sub.add_parser("attention", help="connectivity read out of a saved model's attention")
    _saved_model_arguments(att, "NWB file with a Units table", "read")
    add_figure_option(att, "the attention connectivity")
    add_common_options(att, seed=False, out_help="results NWB file to write")
    att.set_defaults(func=run_attention)


def _report(args, metrics):
    if not args.quiet:
        print(", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items())
              + f" → {args.out}")
    return 0


def run_pretrain(args):
    from .analysis import pretrain

    params = {"window": args.window, "past": args.past, "epochs": args.n_epochs,
              "batch_size": args.n_batch_windows, "n_embd": args.n_embedding_dims, "n_head": args.n_heads,
              "n_state": args.n_layers, "n_history": args.n_layers, "n_self": args.n_layers,
              "n_past": args.n_past_layers, "lr": args.lr, "test_fraction": args.test_fraction,
              "n_blocks": args.n_blocks, "device": args.torch_device, "n_threads": args.torch_threads,
              "seed": args.seed}
    metrics = pretrain(args.file, args.out, params, figure=args.figure, overwrite=args.overwrite,
                       verbose=not args.quiet, checkpoint=args.checkpoint, model_out=args.model_out)
    return _report(args, metrics)


def run_generate(args):
    from .analysis import generate

    params = {"model": args.model, "temperature": args.temperature, "top_k": args.n_top_tokens, "top_p": args.top_p,
              "start": args.start, "end": args.end, "device": args.torch_device, "n_threads": args.torch_threads,
              "seed": args.seed}
    return _report(args, generate(args.file, args.out, params, figure=args.figure, overwrite=args.overwrite,
                                  verbose=not args.quiet))


def run_attention(args):
    from .analysis import attention

    params = {"model": args.model, "start": args.start, "end": args.end, "device": args.torch_device,
              "n_threads": args.torch_threads}
    return _report(args, attention(args.file, args.out, params, figure=args.figure, overwrite=args.overwrite,
                                   verbose=not args.quiet))
