"""``neurosim elm data|train|evaluate`` — the Expressive Leaky Memory neuron (Spieler et al. 2023) from the shell.

Light to import: torch and Brian2 load inside the handlers.
"""
from neurodata.cli import add_common_options, add_figure_option
from neurodata.deep import add_torch_arguments

#: copy of neurosim.elm.training.ARCHITECTURES (that module imports torch); tests check the two are equal
ARCHITECTURES = ("elm", "linear", "lstm")
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone", "genn")  # neurosim.backends.DEVICES


def configure(subparsers):
    parser = subparsers.add_parser("elm", help="Expressive Leaky Memory neuron fitted to a Brian2 neuron with NMDA "
                                               "dendrites (Spieler et al. 2023)")
    sub = parser.add_subparsers(dest="elm_command", metavar="ACTION", required=True)

    p = sub.add_parser("data", help="NeuronIO-like data: 1278 Poisson inputs -> Brian2 neuron -> NWB")
    p.add_argument("--train-duration", type=float, default=300.0, help="seconds of training data (default 300)")
    p.add_argument("--test-duration", type=float, default=60.0, help="seconds of held-out data (default 60)")
    p.add_argument("--device", choices=DEVICES, default="cpp_standalone", help="Brian2 device (default cpp_standalone)")
    p.add_argument("--openmp-threads", type=int, default=None, help="OpenMP threads for cpp_standalone")
    add_common_options(p, out_help="NWB file to write")
    p.set_defaults(func=_data)

    p = sub.add_parser("train", help="fit the ELM (or a baseline) to a neuron data file")
    p.add_argument("data", help="NWB file from 'neurosim elm data'")
    p.add_argument("--architecture", choices=ARCHITECTURES, default="elm", help="model (default elm)")
    p.add_argument("--n-memory", type=int, default=20, help="memory units d_m (default 20)")
    p.add_argument("--n-mlp-layers", type=int, default=1, help="hidden MLP layers (default 1; 0 = ablation)")
    p.add_argument("--version", choices=("v1", "v2"), default="v1", help="ELM version (default v1)")
    p.add_argument("--n-epochs", type=int, default=10, help="epochs (default 10)")
    p.add_argument("--n-batches", type=int, default=100, help="batches per epoch (default 100; paper 10000)")
    p.add_argument("--lr", type=float, default=5e-4, help="Adam learning rate, cosine-decayed (default 5e-4)")
    add_torch_arguments(p)
    p.add_argument("--checkpoint", default=None, help="checkpoint file, saved every epoch and resumed from")
    add_common_options(p, out_help="trained model file (.pt)")
    p.set_defaults(func=_train)

    p = sub.add_parser("evaluate", help="held-out spike AUC and soma RMSE; writes a results NWB file")
    p.add_argument("model", help="trained model file from 'neurosim elm train'")
    p.add_argument("data", help="NWB file from 'neurosim elm data' (its test block is used)")
    add_torch_arguments(p)
    add_figure_option(p, "soma and spike probability against the neuron's, and memory traces")
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("adding", help="long-horizon adding task (two spike patterns, sum of their indices): the "
                                      "ELM with a long and a short memory")
    p.add_argument("--tau-m-max", type=float, nargs="+", default=[0.5, 0.02],
                   help="longest memory time constants to compare, s (default 0.5 0.02)")
    p.add_argument("--n-memory", type=int, default=100, help="memory units d_m (default 100)")
    # neurosim.elm.adding.FULL_CONFIGURATION, spelled out so that --help does not load torch (a test keeps them equal)
    p.add_argument("--n-train", type=int, default=8000, help="training trials (default 8000)")
    p.add_argument("--n-test", type=int, default=2000, help="test trials (default 2000)")
    p.add_argument("--n-epochs", type=int, default=15, help="epochs (default 15)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate, cosine-decayed (default 3e-3)")
    add_torch_arguments(p)
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=_adding)


def _split_arrays(path):
    from neurodata.errors import NWBContentError

    from .neuron import read_neuron_data

    data, split = read_neuron_data(path)
    if "train" not in split or "test" not in split:
        raise NWBContentError(f"{path}: no train/test epochs; write it with 'neurosim elm data'.")
    n = int(round(split["train"][1] / data.bin_size))
    return data, n


def _data(args):
    from neurodata.utils import check_output_path

    from .neuron import generate_neuron_data, write_neuron_data

    check_output_path(args.out, overwrite=args.overwrite, suffix=".nwb")
    data, split = generate_neuron_data(args.train_duration, args.test_duration, seed=args.seed, device=args.device,
                                       openmp_threads=args.openmp_threads)
    write_neuron_data(args.out, data, split, seed=args.seed, overwrite=args.overwrite)
    print(f"{args.out}: {data.duration:g} s, {int(data.spikes.sum())} soma spikes ({data.rate:.2f} Hz), "
          f"plateau fraction {data.plateau_fraction:.3f}")
    return 0


def _train(args):
    from neurodata.utils import check_output_path

    from .training import NeuronIOModel

    check_output_path(args.out, overwrite=args.overwrite, suffix=".pt")
    data, n = _split_arrays(args.data)
    model = NeuronIOModel(architecture=args.architecture, memory=args.n_memory, mlp_layers=args.n_mlp_layers,
                          version=args.version, n_epochs=args.n_epochs, batches_per_epoch=args.n_batches, lr=args.lr,
                          device=args.torch_device, n_threads=args.torch_threads, checkpoint=args.checkpoint,
                          seed=args.seed, verbose=not args.quiet)
    model.fit(data.inputs[:n], data.spikes[:n], data.soma_v[:n]).save(args.out, overwrite=args.overwrite)
    last = model.history_[-1] if model.history_ else {}
    print(f"{args.out}: {model.n_parameters_} parameters, {len(model.history_)} epochs, best epoch "
          f"{model.best_epoch_}, last loss {last.get('loss', float('nan')):.4f}")
    return 0


def _evaluate(args):
    import numpy as np

    from neurodata.io import write_results
    from neurodata.utils import check_output_path

    from .training import NeuronIOModel

    check_output_path(args.out, overwrite=args.overwrite, suffix=".nwb", inputs=(args.data, args.model))
    model = NeuronIOModel.load(args.model, device=args.torch_device, n_threads=args.torch_threads)
    data, n = _split_arrays(args.data)
    x, spikes, soma = data.inputs[n:], data.spikes[n:], data.soma_v[n:]
    scores = model.score(x, spikes, soma)
    prob, pred_soma = model.predict(x)
    write_results(args.out, analysis="elm_evaluation", sources=[args.model, args.data],
                  parameters={"model": model.get_params(), **scores, "ignored_s": 0.5},
                  arrays={"spike_probability": prob.astype(np.float32), "soma_v_predicted": pred_soma.astype(np.float32)},
                  overwrite=args.overwrite)
    if args.figure:
        from .plots import plot_prediction

        plot_prediction(model, x, spikes, soma, path=args.figure, overwrite=args.overwrite)
    print(f"AUC {scores['auc']:.4f}, soma RMSE {scores['soma_rmse_mv']:.3f} mV on {scores['n_spikes']} spikes "
          f"-> {args.out}")
    return 0


def _adding(args):
    from neurodata.utils import check_output_path

    from .adding import run_adding_task, write_adding_results

    check_output_path(args.out, overwrite=args.overwrite, suffix=".nwb")
    results = []
    for tau in args.tau_m_max:
        result = run_adding_task(tau_m_max=tau, memory=args.n_memory, n_train=args.n_train, n_test=args.n_test,
                                 n_epochs=args.n_epochs, seed=args.seed, lr=args.lr, device=args.torch_device,
                                 n_threads=args.torch_threads, verbose=not args.quiet)
        results.append(result)
        print(f"tau_m_max {tau:g} s: test accuracy {result['test_accuracy']:.3f} (best epoch {result['best_epoch']})")
    write_adding_results(args.out, results, overwrite=args.overwrite)
    return 0
