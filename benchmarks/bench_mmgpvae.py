"""MM-GPVAE benchmark (#22): CPU seconds per training epoch of ``MMGPVAENet`` (ours) against a plain
transcription of the same forward and backward (baseline), the same weights, data, noise and optimiser steps,
one CPU thread, denormals flushed (the suite's torch_runtime).

The baseline writes the corrected negative ELBO down the way the reference writes its training step, trial by
trial and latent by latent: for each trial of the batch each modality's frame-wise encoder on its (T, D)
frames, ``Linear(T, K)`` into Fourier coefficients per latent, the shared latent as the mean of the encoders',
then per latent the prior variance ``K(ω) = √(2π) ρ ℓ exp(−½ ω ℓ²) + ε`` from its formula, the KL term, the
reparameterised sample and its time-domain mean, sample and variance through the dense DFT basis, and per
trial the Poisson term ``y η − exp(η + v/2) − log y!`` and the image MLP's Gaussian term; the batch loss is
the mean over trials. Its loss and gradients are checked against ours before anything is timed (relative
gap ≤ 1e-4). One epoch = 240 trials in batches of 20: zero_grad, loss, backward, gradient clipping per module
group, Adam step (the estimator's own parameter groups and fused Adam), identical for both.

bench_paper_epoch: the paper's size (batch 20, 240 training trials, 60 bins, 100 neurons, 36 × 36 images, the
reference's layer widths, 1 shared + 1 private latent per modality), the paper's simulated data (seed 32).
Process CPU seconds of one epoch (quick: the best of 2 epochs; --full: of 4); wall seconds as extras. An extra
times ours with torch's float32 matmul precision "medium" (bfloat16 products; AMX on CPUs that have it): not
the estimator's default, and its recovery is not measured.
"""
import contextlib
import copy
import math
import time

#: the paper's training size
N_TRAIN, BATCH = 240, 20


def paper_model(*, n_trials=300, n_bins=60, n_neurons=100, digit_size=28, pad=4, seed=0):
    """(net, training modalities, estimator) at the paper's size: the estimator built (0 epochs) on the
    paper's simulated trials (seed 32, the 240 training trials of the 240/60 split)."""
    from neurodata.mmgpvae import MMGPVAE
    from neurosim.groundtruth.mmgpvae import simulate_mmgpvae, split_trials

    sim = simulate_mmgpvae(n_trials=n_trials, n_bins=n_bins, n_neurons=n_neurons, digit_size=digit_size, pad=pad,
                           seed=32)
    train, _ = split_trials(n_trials, seed=10)
    data = {k: v[train].astype("float32") for k, v in sim.modalities.items()}
    est = MMGPVAE(kinds={"images": "image"}, epochs=0, seed=seed, n_threads=1).fit(data)
    return est.net_.train(), data, est


def plain_loss(net, batch, generator):
    """The corrected negative ELBO (per-trial mean), written out per trial and per latent on ``net``'s weights."""
    import torch

    names = [s.name for s in net.specs]
    n_trials = next(iter(batch.values())).shape[0]
    n_lat = len(net.layout)
    n_coef = net.basis.shape[0]
    # the same standard-normal noise the batched model draws, (B, L, K)
    eps = torch.randn((n_trials, n_lat, n_coef), generator=generator)
    ell = torch.exp(net.length_param)
    total = 0.0
    for b in range(n_trials):
        enc = {}
        for name in names:
            e = net.encoders[name]
            h = e.body((batch[name][b] - e.input_shift) / e.input_scale)     # (T, hidden)
            enc[name] = (e.mean_time(e.mean(h).T), e.scale_time(e.log_scale(h).T))  # (latents, K) each
        kl = 0.0
        mean_t, var_t, z_t = [], [], []
        for j, (group, i) in enumerate(net.layout):
            if group == "shared":
                m = sum(enc[n][0][net._n_private(n) + i] for n in names) / len(names)
                s = sum(enc[n][1][net._n_private(n) + i] for n in names) / len(names)
            else:
                m, s = enc[group][0][i], enc[group][1][i]
            k = math.sqrt(2 * math.pi) * net.rho * ell[j] * torch.exp(-0.5 * net.omega2 * ell[j] ** 2) + net.prior_eps
            kl = kl + 0.5 * ((m ** 2 + torch.exp(2 * s)) / k - 1 - 2 * s + torch.log(k)).sum()
            mean_t.append(m @ net.basis)
            var_t.append(torch.exp(2 * s) @ net.basis ** 2)
            z_t.append((m + eps[b, j] * torch.exp(s)) @ net.basis)
        loglik = 0.0
        for spec in net.specs:
            idx = net.decoder_index(spec.name)
            dec = net.decoders[spec.name]
            y = batch[spec.name][b]
            if spec.kind == "poisson":
                w, bias = dec.linear.weight, dec.linear.bias
                eta = torch.stack([mean_t[j] for j in idx], 1) @ w.T + bias
                var_eta = torch.stack([var_t[j] for j in idx], 1) @ (w ** 2).T
                loglik = loglik + (y * eta - torch.exp(eta + 0.5 * var_eta) - torch.lgamma(y + 1)).sum()
            else:
                v = dec.variance()
                x_hat = dec.net(torch.stack([z_t[j] for j in idx], 1))
                loglik = loglik - 0.5 * ((y - x_hat) ** 2 / v + torch.log(2 * math.pi * v)).sum()
        total = total + kl - loglik
    return total / n_trials


def ours_loss(net, batch, generator):
    return net.loss(batch, generator)[0]


def check_equivalence(net, batch, *, rtol=1e-4):
    """Raise AssertionError unless the plain transcription gives our loss and gradients; returns the gaps."""
    import torch

    grads = []
    for fn in (ours_loss, plain_loss):
        net.zero_grad(set_to_none=True)
        loss = fn(net, batch, torch.Generator().manual_seed(7))
        loss.backward()
        grads.append((loss.item(), [p.grad.clone() for p in net.parameters()]))
    net.zero_grad(set_to_none=True)
    (l0, g0), (l1, g1) = grads
    loss_gap = abs(l0 - l1) / abs(l0)
    grad_gap = max(float((a - b).norm() / max(a.norm(), 1e-12)) for a, b in zip(g0, g1))
    if not (loss_gap <= rtol and grad_gap <= 10 * rtol):
        raise AssertionError(f"MMGPVAENet and the plain transcription differ: loss {loss_gap:g}, "
                             f"gradient {grad_gap:g} (relative)")
    return loss_gap, grad_gap


def _epoch_seconds(loss_fn, net, est, tensors, n_epochs, seed=0):
    """Best process-CPU and wall seconds of one epoch over ``n_epochs`` (after one warm-up batch)."""
    import numpy as np
    import torch

    from neurodata.mmgpvae.estimator import adam

    net = copy.deepcopy(net)
    groups = est._param_groups(net, [_spec(s) for s in est.specs_])
    optimizer = adam(groups)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    n = next(iter(tensors.values())).shape[0]

    def step(idx):
        optimizer.zero_grad()
        loss = loss_fn(net, {k: v[idx] for k, v in tensors.items()}, generator)
        loss.backward()
        for g in groups:
            torch.nn.utils.clip_grad_norm_(g["params"], est.clip_norm)
        optimizer.step()

    step(torch.arange(BATCH))  # warm-up
    cpu, wall = [], []
    for _ in range(n_epochs):
        order = torch.from_numpy(rng.permutation(n))
        c0, w0 = time.process_time(), time.perf_counter()
        for first in range(0, n, BATCH):
            step(order[first:first + BATCH])
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall)


def _spec(d):
    from neurodata.mmgpvae.network import ModalitySpec

    return ModalitySpec(d["name"], d["kind"], d["n_features"], d["n_private"])


@contextlib.contextmanager
def float32_matmul_precision(precision):
    """torch's float32 matmul precision inside the block ("medium": bfloat16 products, on AMX where the CPU
    has it), the previous one restored after."""
    import torch

    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


def bench_paper_epoch(quick=True):
    """Batch 20, 240 trials, 60 bins, 100 neurons, 36 × 36 images, 1 thread: CPU seconds per training epoch of
    MMGPVAENet (ours) vs a plain per-trial, per-latent transcription of the same corrected ELBO (baseline)."""
    import torch

    from neurodata.deep import torch_runtime

    n_epochs = 2 if quick else 4
    net, data, est = paper_model()
    with torch_runtime("cpu", 1, flush_denormal=True):
        tensors = {k: torch.from_numpy(v) for k, v in data.items()}
        loss_gap, grad_gap = check_equivalence(net, {k: v[:BATCH] for k, v in tensors.items()})
        ours_cpu, ours_wall = _epoch_seconds(ours_loss, net, est, tensors, n_epochs)
        base_cpu, base_wall = _epoch_seconds(plain_loss, net, est, tensors, n_epochs)
        with float32_matmul_precision("medium"):  # not the default: recovery at bfloat16 is not measured
            bf16_cpu, _ = _epoch_seconds(ours_loss, net, est, tensors, n_epochs)
    return {"name": "mmgpvae_paper_epoch_cpu_s", "ours": ours_cpu, "baseline": base_cpu,
            "ours_wall_s": ours_wall, "baseline_wall_s": base_wall,
            "ours_bf16_matmul_cpu_s": bf16_cpu, "plain_vs_ours_bf16_matmul": base_cpu / bf16_cpu,
            "loss_rel_gap": loss_gap, "grad_rel_gap": grad_gap, "batch": BATCH, "trials": N_TRAIN, "bins": 60,
            "neurons": 100, "image_side": 36, "epochs_timed": n_epochs}
