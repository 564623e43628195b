"""Heterogeneous-delay motion detector: events -> NWB -> train -> evaluate -> prune -> Brian2 twin (spikes) -> figures.

    python examples/motion.py            # the card's reduced configuration (a few minutes on 2 cores)
    python examples/motion.py --quick    # the same pipeline on a tenth of the movies and 2 epochs
"""
import argparse
from pathlib import Path

import numpy as np

from neurosim.motion import get_config, make_dataset
from neurosim.motion.events import read_events, write_events
from neurosim.motion.model import HeterogeneousDelayClassifier
from neurosim.motion.plots import plot_kernels, plot_pruning_curve
from neurosim.motion.prune import half_accuracy_point, prune_kernel, pruning_curve
from neurosim.motion.twin import run_brian2_twin


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the movies, 2 epochs (a smoke run)")
    parser.add_argument("--out", default="out", help="output folder (default out/)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = get_config("reduced")
    if args.quick:
        config = get_config("reduced", n_train=max(12, config.n_train // 10), n_test=max(12, config.n_test // 10),
                            epochs=2)

    train = make_dataset(config, config.n_train, seed=1, verbose=True)  # saccade-like walks with label switching
    clf = HeterogeneousDelayClassifier(config=config, n_threads=2, seed=0, verbose=True,
                                       checkpoint=str(out / "motion_ckpt.pt")).fit(train.events, train.labels)

    # held-out constant-motion movies as a recording: one Units population per movie, labels in a table
    test = make_dataset(config, config.n_test, seed=2, block_length=config.test_block_length)
    write_events(out / "motion_test.nwb", test.events, test.labels, config=config)
    events, labels, _ = read_events(out / "motion_test.nwb")
    chance = 1 / config.n_classes
    print("held-out accuracy per time step:", clf.score(events, labels), "chance", chance)

    curve = pruning_curve(clf, events, labels, fractions=[1.0, 0.3, 0.1, 0.03, 0.01, 0.003])
    print(curve, "\nhalf accuracy with", half_accuracy_point(curve, chance=chance), "weights")
    plot_pruning_curve(curve, chance=chance, path=out / "motion_pruning.png")
    plot_kernels(clf.kernel_, config, classes=np.arange(0, config.n_classes, 2), path=out / "motion_kernels.png")

    # the 3 %-pruned kernel as Brian2 synapses with heterogeneous delays (no ON/OFF flip: one pass)
    kernel = prune_kernel(clf.kernel_, int(0.03 * np.count_nonzero(clf.kernel_)))
    twin = run_brian2_twin(events[0], kernel, clf.bias_)
    print(f"Brian2 twin: {twin.n_synapses} synapses, {twin.wall_seconds:.1f} s, evidence {twin.evidence.shape}")
    np.save(out / "motion_twin_evidence.npy", twin.evidence)

    # spiking output (paper Sec. 2.3): thresholds for 1 spike/s per detector on training movies, winner-take-all
    # over classes; the Brian2 twin (threshold + ON/OFF flip + WTA) on a 24 x 24 corner of one held-out movie
    clf.calibrate_thresholds(train.events[:16])
    corner = events[:1, :, :, :24, :24]
    dense = clf.spikes(corner)[0]
    spiking = run_brian2_twin(corner[0], clf.kernel_, clf.bias_, thresholds=clf.thresholds_, flip=config.flip)
    print(f"spiking twin: {int(spiking.spikes.sum())} output spikes, the dense model's: {int(dense.sum())}, "
          f"equal: {np.array_equal(spiking.spikes, dense)}")
    np.save(out / "motion_twin_spikes.npy", spiking.spikes)


if __name__ == "__main__":
    main()
