"""ELM neuron: simulate the NeuronIO-like Brian2 neuron -> NWB -> fit Branch-ELM and a linear baseline -> compare.

A small run (20 s of data, a few hundred training batches); the card's numbers come from
``neurosim elm data`` defaults (300 s + 60 s) and longer training.

    python examples/elm.py --out-dir out/elm
"""
import argparse
from pathlib import Path

from neurosim.elm.neuron import generate_neuron_data, read_neuron_data, write_neuron_data
from neurosim.elm.plots import plot_prediction
from neurosim.elm.training import NeuronIOModel


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default="out/elm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="half the data and training (a smoke run, e.g. the tests)")
    args = parser.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    path = out / "neuron.nwb"
    if not path.exists():
        train_s, test_s = (8.0, 2.0) if args.quick else (16.0, 4.0)
        data, split = generate_neuron_data(train_s, test_s, seed=args.seed)
        write_neuron_data(path, data, split, seed=args.seed)
    data, split = read_neuron_data(path)
    n = int(round(split["train"][1] / data.bin_size))
    train = data.inputs[:n], data.spikes[:n], data.soma_v[:n]
    test = data.inputs[n:], data.spikes[n:], data.soma_v[n:]
    for architecture in ("elm", "linear"):
        model = NeuronIOModel(architecture=architecture, n_epochs=2 if args.quick else 4, batches_per_epoch=25, lr=3e-3, seed=args.seed,
                              device="cpu", n_threads=1).fit(*train)
        scores = model.score(*test)
        print(f"{architecture:6s} {model.n_parameters_:6d} parameters  AUC {scores['auc']:.3f}  "
              f"soma RMSE {scores['soma_rmse_mv']:.2f} mV")
        if architecture == "elm":
            plot_prediction(model, *test, path=out / "elm_prediction.png", overwrite=True)


if __name__ == "__main__":
    main()
