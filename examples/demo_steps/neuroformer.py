"""README demo: a small Neuroformer on a simulated hub network (known directed connectivity): pretrain through
the analysis path (results NWB), then the attention readout against the truth, beside a cross-correlogram."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    import json

    from neurodata.io import read_results, read_spikes
    from neurodata.neuroformer.analysis import pretrain
    from neurodata.neuroformer.connectivity import cross_correlogram_connectivity, edge_auroc
    from neurodata.neuroformer.plotting import plot_attention
    from neurosim.groundtruth.neuroformer import write_hub_network

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source = out / "hub_network.nwb"
    net = write_hub_network(source, n_neurons=12, n_hubs=2, n_targets=4, duration=120.0 if quick else 1200.0,
                            seed=0, overwrite=True)
    results = out / "neuroformer_demo.nwb"
    params = dict(n_embd=32, n_head=2, n_state=1, n_past=1, n_history=1, n_self=1, dropout=0.1, lr=1e-3,
                  epochs=1 if quick else 4, batch_size=64, device="cpu", n_threads=1, seed=0)
    metrics = pretrain(source, results, params, overwrite=True)
    attention = read_results(results).arrays["attention"]
    metrics["attention_auroc"] = edge_auroc(attention, net.adjacency)
    metrics["ccg_auroc"] = edge_auroc(cross_correlogram_connectivity(read_spikes(source)), net.adjacency)
    png = out / "neuroformer_demo.png"
    plot_attention(attention, png, truth=net.weights, overwrite=True)
    (out / "neuroformer_demo.json").write_text(json.dumps(metrics, indent=1))
    return {"nwb": str(results), "figure": str(png), **{k: str(v) for k, v in metrics.items()}}
