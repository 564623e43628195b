"""README demo step for the ELM neuron: NeuronIO-like data from the Brian2 neuron -> NWB -> a short Branch-ELM
fit and the linear baseline at the same budget -> held-out AUC, soma RMSE, results NWB and figure, through the
``neurosim elm`` commands themselves (data, train, evaluate)."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    import json

    from neurodata.io import read_results

    from neurosim.cli import main

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "neuron.nwb"
    train_s, test_s, batches = ("40", "10", "100") if quick else ("300", "60", "300")
    common = ["--overwrite", "--seed", "0"]  # not --quiet: the progress bars keep the long steps from looking stuck
    steps = [["elm", "data", "--train-duration", train_s, "--test-duration", test_s, "--out", str(data)]]
    for arch in ("elm", "linear"):
        steps += [["elm", "train", str(data), "--architecture", arch, "--n-epochs", "2", "--n-batches", batches,
                   "--lr", "3e-3", "--torch-device", "cpu", "--torch-threads", "1", "--out", str(out / f"{arch}.pt")],
                  ["elm", "evaluate", str(out / f"{arch}.pt"), str(data), "--torch-device", "cpu",
                   "--torch-threads", "1", "--out", str(out / f"{arch}_evaluation.nwb")]
                  + (["--figure", str(out / "elm_prediction.png")] if arch == "elm" else [])]
    for argv in steps:
        if main(argv + common) != 0:
            raise RuntimeError(f"neurosim {' '.join(argv)} failed")
    metrics = {}
    for arch in ("elm", "linear"):
        params = read_results(out / f"{arch}_evaluation.nwb").parameters
        metrics.update({f"{arch}_auc": params["auc"], f"{arch}_soma_rmse_mv": params["soma_rmse_mv"]})
    (out / "elm_demo.json").write_text(json.dumps(metrics, indent=1))
    return {"nwb": str(out / "elm_evaluation.nwb"), "figure": str(out / "elm_prediction.png"),
            **{k: f"{v:.3f}" for k, v in metrics.items()}}
