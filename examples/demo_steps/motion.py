"""README demo: event movies -> NWB, the reduced trained detector, its pruning curve and kernels (< 60 s)."""
import os


def demo(out_dir, testdata=None, quick=True):
    import numpy as np

    from neurodata.cards import model_file

    from neurosim.motion.events import make_dataset, write_events
    from neurosim.motion.model import HeterogeneousDelayClassifier
    from neurosim.motion.plots import plot_kernels, plot_pruning_curve
    from neurosim.motion.prune import pruning_curve

    os.makedirs(out_dir, exist_ok=True)
    clf = HeterogeneousDelayClassifier.load(model_file("grimaldi_perrinet_2023", "grimaldi_perrinet_2023_reduced.pt"),
                                            n_threads=2)
    config = clf.config_
    test = make_dataset(config, 4 if quick else config.n_test, seed=2, block_length=config.test_block_length)
    events_path = write_events(os.path.join(out_dir, "motion_events.nwb"), test.events, test.labels, config=config)
    curve = pruning_curve(clf, test.events, test.labels, fractions=[1.0, 0.1, 0.03, 0.01, 0.003],
                          methods=("magnitude", "shortening"))
    plot_pruning_curve(curve, chance=1 / config.n_classes, path=os.path.join(out_dir, "motion_pruning.png"))
    plot_kernels(clf.kernel_, config, classes=np.arange(0, 12, 2), path=os.path.join(out_dir, "motion_kernels.png"))
    return {"events": str(events_path), "accuracy": clf.score(test.events, test.labels),
            "figures": [os.path.join(out_dir, f) for f in ("motion_pruning.png", "motion_kernels.png")]}
