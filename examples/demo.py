"""The suite's main job (`make demo`): load recordings → summarise → results NWB + figure, then each
component's own step. Run: python examples/demo.py --out out [--testdata ../shared/testdata] [--full]

Without the real recordings (../shared/testdata absent) the first step simulates a small E/I network in Brian2
and derives calcium-like traces from it, so the demo always runs end to end.
"""
import argparse
import importlib
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neurodata.registry  # noqa: E402
import neurosim.registry  # noqa: E402
from neurodata import io  # noqa: E402
from neurodata.errors import InvalidInputError  # noqa: E402
from neurodata.utils import atomic_path, check_output_path  # noqa: E402
from neurodata.registry import demo_steps  # noqa: E402
from neurodata.report import build_report, jsonable  # noqa: E402

logger = logging.getLogger("neurosuite.demo")
SPINE_FILES = ("summary.nwb", "summary.png", "lif_network.nwb")  # what the first step writes into --out
REPORT_FILES = ("report.html", "report.json")  # what the last step writes into --out

# Component steps: (title, "module:function"); each function is demo(out_dir, testdata=None, quick=True).
# Derived from the two component tables: simulators first, then analyses, then the scale-out drivers.
COMPONENT_STEPS = demo_steps(neurosim.registry.COMPONENTS, neurodata.registry.COMPONENTS)


def load_recordings(testdata, out_dir, overwrite=False):
    """Real spikes + calcium from testdata, or a simulated circuit written to NWB when there is none."""
    if testdata is not None:
        spikes_path = testdata / "nwb" / "spikes_behavior_A2929-200711.nwb"
        calcium_path = testdata / "nwb" / "calcium_A6512-210915.nwb"
        return io.read_spikes(spikes_path), io.read_traces(calcium_path), [spikes_path, calcium_path]
    from neurosim.circuits import calcium_from_spikes, write_lif_network

    sim_path = write_lif_network(out_dir / "lif_network.nwb", n_neurons=200, duration=2.0, seed=0,
                                 overwrite=overwrite)
    spikes = io.read_spikes(sim_path)
    return spikes, calcium_from_spikes(spikes, seed=0), [sim_path]


def summarise(spikes, calcium, sources, out_dir, bin_size=0.1, overwrite=False):
    """Firing rates, binned counts and calcium statistics → results NWB + a figure."""
    counts = spikes.count(bin_size)
    rates = counts.data.sum(axis=0) / counts.duration
    cal = calcium.data
    z = (cal - cal.mean(axis=0)) / np.where(cal.std(axis=0) > 0, cal.std(axis=0), 1.0)
    path = io.write_results(
        out_dir / "summary.nwb", analysis="summary", sources=sources,
        parameters={"bin_size": bin_size},
        arrays={"firing_rate_hz": rates, "calcium_mean": cal.mean(axis=0), "calcium_std": cal.std(axis=0)},
        traces={"spike_counts": counts}, overwrite=overwrite)
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    order = np.argsort(rates)[::-1]
    axes[0].bar(np.arange(rates.size), rates[order], color="0.3")
    axes[0].set(xlabel="unit (sorted)", ylabel="rate (Hz)", title=f"{spikes.n_units} units, {spikes.n_spikes} spikes")
    window = min(60.0, spikes.duration)
    for row, j in enumerate(order[:15]):
        t = spikes.times[j]
        t = t[(t >= spikes.start) & (t < spikes.start + window)]
        axes[1].vlines(t, row, row + 0.8, color="k", linewidth=0.4)
    axes[1].set(xlabel="time (s)", ylabel="unit", title=f"raster, first {window:.0f} s")
    n_show = min(cal.shape[0], int(np.searchsorted(calcium.times, calcium.start + 120.0)) or cal.shape[0])
    for k in range(min(6, cal.shape[1])):
        axes[2].plot(calcium.times[:n_show], z[:n_show, k] + 6.0 * k, linewidth=0.6)
    axes[2].set(xlabel="time (s)", ylabel="z-scored fluorescence (offset)", title=f"calcium: {cal.shape[1]} ROIs")
    fig.tight_layout()
    fig.savefig(out_dir / "summary.png", dpi=110)
    plt.close(fig)
    return path


def _previous_report(out_dir):
    """The earlier demo's report in ``out_dir`` ({step: ...}), or None if this folder holds none."""
    try:
        report = json.loads((out_dir / "demo_report.json").read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def _save_report(out_dir, report):
    with atomic_path(out_dir / "demo_report.json", overwrite=True) as tmp:  # the demo's own report
        Path(tmp).write_text(json.dumps(report, indent=2))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="output folder (default out/)")
    default_data = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
    parser.add_argument("--testdata", default=str(default_data), help="folder of real recordings")
    parser.add_argument("--full", action="store_true", help="run each component step at full size")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    testdata = Path(args.testdata) if Path(args.testdata).is_dir() else None
    if testdata is None:
        logger.info("no recordings at %s: simulating a small circuit instead", args.testdata)

    # A folder with a demo report holds an earlier demo's output: the demo replaces its own files there. In any
    # other folder an existing file is left alone and the step that would write it stops (OutputExistsError).
    previous = _previous_report(out_dir)
    rerun = previous is not None
    if not rerun:  # refuse before the report below makes these files the demo's own
        for name in SPINE_FILES + REPORT_FILES:
            check_output_path(out_dir / name)
    report = {"spine": {"status": "running"}}
    # saved before anything is written (with the earlier run's steps), so a rerun after a crash knows its files
    _save_report(out_dir, {**(previous or {}), **report})
    t0 = time.time()
    spikes, calcium, sources = load_recordings(testdata, out_dir, overwrite=rerun)
    path = summarise(spikes, calcium, sources, out_dir, overwrite=rerun)
    report["spine"] = {"seconds": round(time.time() - t0, 1), "written": [str(path), str(out_dir / "summary.png")],
                       "numbers": {"n_units": spikes.n_units, "n_spikes": spikes.n_spikes,
                                   "n_rois": calcium.n_channels}}
    logger.info("spine: %s units, %s ROIs → %s", spikes.n_units, calcium.n_channels, path)
    for title, target in COMPONENT_STEPS:
        module, func = target.split(":")
        t0 = time.time()
        logger.info("step: %s", title)
        step_dir = out_dir / title
        if rerun and title in previous and step_dir.is_dir():
            shutil.rmtree(step_dir)  # the earlier demo's step folder: made afresh, so no step writes over a file
        elif step_dir.is_dir() and any(step_dir.iterdir()):
            raise InvalidInputError(f"{step_dir}: exists and was not made by this demo (no earlier report lists it); "
                                    "remove it or choose another --out.")
        step_dir.mkdir(exist_ok=True)
        report[title] = {"status": "running"}
        _save_report(out_dir, {**(previous or {}), **report})
        written = getattr(importlib.import_module(module), func)(step_dir, testdata=testdata, quick=not args.full)
        # steps may name what they wrote (and report numbers) by key: kept as JSON (paths as strings, numbers
        # as numbers, nested dicts as objects), never as Python reprs
        written = jsonable(written if isinstance(written, dict) else list(written or []))
        report[title] = {"seconds": round(time.time() - t0, 1), "written": written}
    _save_report(out_dir, report)
    html, _ = build_report(out_dir, steps=report, overwrite=True)  # the demo's own files (refused above if not)
    logger.info("report: %s (open it in a browser) and %s", html, out_dir / "report.json")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
