"""README demo: planted time-varying communities in simulated calcium → dynamic connectome → NWB + figure."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    """Run a ≤ 60 s connectome step and write its files under ``out_dir``; returns {name: path}.

    Simulates 3 animals × 30 neurons with 3 planted motifs (neurosim's ground-truth generator), fits the
    dynamic connectome with automatic rank, writes the results NWB file and a summary figure. With
    ``testdata`` (the shared test-data folder) it also analyses the real calcium recording there.
    """
    import numpy as np

    from neurodata.connectome.pipeline import DynamicConnectome
    from neurodata.utils import atomic_path
    from neurosim.groundtruth.connectome import simulate_dynamic_communities

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}

    sim = simulate_dynamic_communities(n_animals=3, duration=180.0 if quick else 300.0, seed=0)
    model = DynamicConnectome(rank="auto", rank_range=(1, 5), n_restarts=3 if quick else 6, resolution=1.0,
                              seed=0)
    result = model.fit(sim.traces).result_
    files["nwb"] = Path(result.to_nwb(out_dir / "connectome_simulated.nwb") or out_dir / "connectome_simulated.nwb")
    result.plot(out_dir / "connectome_simulated.png")
    files["figure"] = out_dir / "connectome_simulated.png"
    summary = [f"simulated: {result.rank} components; planted motifs:"]
    for m, members in enumerate(sim.members):
        k = int(np.argmax([np.corrcoef(result.temporal[:, k], sim.epochs[m, ::10])[0, 1]
                           for k in range(result.rank)]))
        found = set(np.flatnonzero(result.partitions[k] == 0))
        summary.append(f"  motif {m}: component {k}, {len(found & set(np.flatnonzero(members)))}/"
                       f"{members.sum()} members in its strongest block ({len(found)} neurons)")
    if testdata is not None:
        from neurodata.io import read_traces

        src = Path(testdata) / "nwb" / "calcium_A6512-210915.nwb"
        real = DynamicConnectome(rank="auto", rank_range=(1, 4), n_restarts=4, seed=0).fit(
            read_traces(src), animal_names=[src.stem])
        files["real_nwb"] = out_dir / "connectome_real.nwb"
        real.result_.to_nwb(files["real_nwb"], sources=[src])
        real.result_.plot(out_dir / "connectome_real.png")
        files["real_figure"] = out_dir / "connectome_real.png"
        summary.append(f"real calcium ({src.name}): {real.result_!r}")
    with atomic_path(out_dir / "connectome_summary.txt") as tmp:  # like every writer: never over a file
        Path(tmp).write_text("\n".join(summary) + "\n")
    files["summary"] = out_dir / "connectome_summary.txt"
    return files
