"""Motion detector benchmarks: training throughput, Brian2 twin wall time vs fraction of weights kept, and the
full paper configuration (CUDA when present)."""
import time

import numpy as np


def bench_training_throughput(quick=True):
    """Movies/s of the sampled-voxel trainer (ours) vs the dense all-voxel conv3d loss (baseline), reduced config."""
    from neurosim.motion import get_config, make_dataset
    from neurosim.motion.model import HeterogeneousDelayClassifier

    config = get_config("reduced", epochs=1 if quick else 3)
    data = make_dataset(config, 16 if quick else config.n_train, seed=0)
    times = {}
    for name, voxels in (("ours", config.voxels_per_movie), ("baseline", None)):
        cfg = config.replace(voxels_per_movie=voxels)
        tic = time.perf_counter()
        HeterogeneousDelayClassifier(config=cfg, n_threads=2, seed=0).fit(data.events, data.labels)
        times[name] = time.perf_counter() - tic
    movies = len(data) * config.epochs
    return {"name": "motion_training", "ours": times["ours"], "baseline": times["baseline"],
            "movies_per_s_ours": movies / times["ours"], "movies_per_s_dense": movies / times["baseline"]}


def bench_twin_pruning(quick=True):
    """Brian2 twin wall time (build + run) with 3 % of the weights (ours) vs the trained kernel (baseline; its
    non-zero taps); 10 % and 1 % as extras. Runtime device, cython target throughout; a warm-up run compiles the
    code objects first so that compilation stays out of the timed runs."""
    import os

    from neurosim.motion.events import make_dataset
    from neurosim.motion.model import HeterogeneousDelayClassifier
    from neurosim.motion.prune import prune_kernel
    from neurosim.motion.twin import run_brian2_twin

    clf = HeterogeneousDelayClassifier.load(os.path.join(os.path.dirname(__file__), "..", "models",
                                                         "grimaldi_perrinet_2023_reduced.pt"))
    config = clf.config_.replace(size=(24, 24) if quick else (48, 48), n_steps=40)
    events = make_dataset(config, 1, seed=3).events[0]
    n = np.count_nonzero(clf.kernel_)
    run_brian2_twin(events[:, :8, :8, :8], prune_kernel(clf.kernel_, max(1, n // 100)), clf.bias_, target="cython")
    out = {}
    for label, fraction in (("dense", 1.0), ("10%", 0.1), ("3%", 0.03), ("1%", 0.01)):
        kernel = prune_kernel(clf.kernel_, max(1, int(round(fraction * n))))
        res = run_brian2_twin(events, kernel, clf.bias_, target="cython")
        out[label] = res.wall_seconds
        out[f"run_s_{label}"] = res.run_seconds
        out[f"synapses_{label}"] = res.n_synapses
    return {"name": "motion_twin_3pct_vs_dense", "ours": out["3%"], "baseline": out["dense"],
            "speedup_10%": out["dense"] / out["10%"], "speedup_3%": out["dense"] / out["3%"],
            "speedup_1%": out["dense"] / out["1%"], "events": int(events.sum()), **out}


def bench_paper_configuration(quick=True):
    """One training step of the full paper configuration (36 x 2 x 21 x 17 x 17) on CUDA when present (ours)
    vs the same step on CPU (baseline, skipped in quick mode: ~8 min on 2 cores)."""
    import torch

    from neurosim.motion import get_config
    from neurosim.motion.model import DelayKernelNet

    config = get_config("paper")
    shape = (1, 2, config.n_steps) + config.size
    events = (torch.rand(shape) < 0.05).float()
    labels = torch.randint(config.n_classes, (1, config.n_steps))

    def step(device):
        net = DelayKernelNet(config.n_classes, config.kernel_size).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=config.lr)
        x, y = events.to(device), labels.to(device)
        tic = time.perf_counter()
        logits = net(x)
        target = y[:, :, None, None].expand(1, config.n_steps, *config.size)
        loss = torch.nn.functional.cross_entropy(logits, target)
        loss.backward()
        opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - tic

    ours = step("cuda") if torch.cuda.is_available() else float("nan")
    baseline = float("nan") if quick else step("cpu")
    return {"name": "motion_paper_config_step", "ours": ours, "baseline": baseline,
            "device": "cuda" if torch.cuda.is_available() else "none", "n_weights": config.n_weights}
