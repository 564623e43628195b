"""Ground truth for representational analyses (RSA, topological RSA, brain–model alignment).

* Curves with known topology: the shapes of Lin & Kriegeskorte (2023, authors' ``get_shape``) — flat and
  twisted figure-8, flat and twisted ring — and an Archimedean spiral sampled at equal arc length.
* "Subjects" seeing a shape: random rotation, a monotone warp of the distances and measurement noise.
* A random deep network whose layers are the "model", and brain "regions" that are noisy linear readouts of
  one layer each; MEG-like sensors where layer ``l`` is expressed at latency ``3 + 3 l`` samples.
"""
import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import special_ortho_group

SHAPES = ("flat_8", "twist_8", "flat_ring", "twist_ring")


def shape(name, n_points=40):
    """Points (n × 3) on one of the tRSA paper's curves (figure-8 = lemniscate x = cos t, y = sin 2t)."""
    t = 2 * np.pi * np.arange(n_points) / n_points
    if name == "flat_8":
        return np.column_stack([np.cos(t), np.sin(2 * t), np.zeros_like(t)])
    if name == "twist_8":
        return np.column_stack([np.cos(t) / 2, np.sin(2 * t) / 2, np.cos(2 * t)])
    if name == "flat_ring":
        return np.column_stack([np.sin(t), np.cos(t), np.zeros_like(t)])
    if name == "twist_ring":
        return np.column_stack([np.sin(t), np.cos(t), np.sin(2 * t)])
    raise ValueError(f"unknown shape {name!r}; allowed: {SHAPES}")


def spiral(n_points=120, turns=2.0, start_turn=0.5):
    """Archimedean spiral r = θ in the plane, sampled at equal arc length.

    Returns ``(points (n × 2), arc (n,))`` where ``arc`` is the arc length from the first point, so the true
    geodesic distance between points i and j is ``|arc[i] - arc[j]|``.
    """
    theta0 = 2 * np.pi * start_turn
    theta = np.linspace(theta0, theta0 + 2 * np.pi * turns, 20001)
    # arc length of r = θ: ∫ sqrt(r² + r'²) dθ = ∫ sqrt(θ² + 1) dθ
    s = 0.5 * (theta * np.sqrt(theta ** 2 + 1) + np.arcsinh(theta))
    s -= s[0]
    arc = np.linspace(0.0, s[-1], n_points)
    th = np.interp(arc, s, theta)
    return np.column_stack([th * np.cos(th), th * np.sin(th)]), arc


def subject_rdms(shapes=SHAPES, n_subjects=10, n_points=40, noise=0.1, gamma_range=(0.5, 2.0), warp=True,
                 seed=0):
    """Condensed RDMs of every (subject, shape): rotation, noise, then the warp d ↦ d**γ per subject.

    Returns ``(rdms (items × n_pairs), regions (items,), subjects (items,))``. With ``warp=False`` the same
    rotations and noise are drawn (same seed), so the two calls differ only by the warp.
    """
    rng = np.random.default_rng(seed)
    rdms, regions, subjects = [], [], []
    for s in range(n_subjects):
        gamma = rng.uniform(*gamma_range)
        for r, name in enumerate(shapes):
            rot = special_ortho_group.rvs(3, random_state=rng)
            pts = shape(name, n_points) @ rot.T + noise * rng.standard_normal((n_points, 3))
            d = pdist(pts)
            rdms.append(d ** gamma if warp else d)
            regions.append(r)
            subjects.append(s)
    return np.array(rdms), np.array(regions), np.array(subjects)


def random_network(n_stimuli=500, n_inputs=32, width=48, n_layers=8, seed=0):
    """Activations (list of n_stimuli × width arrays) of a random tanh network driven by Gaussian stimuli.

    Weights are scaled (gain 1.5 / sqrt(fan-in)) so each layer is a substantially nonlinear, only partly
    linearly predictable function of the previous one.
    """
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n_stimuli, n_inputs))
    layers = []
    for _ in range(n_layers):
        w = rng.standard_normal((h.shape[1], width)) * 1.5 / np.sqrt(h.shape[1])
        h = np.tanh(h @ w + 0.5 * rng.standard_normal(width))
        h = (h - h.mean(axis=0)) / h.std(axis=0)
        layers.append(h)
    return layers


def readout_regions(layers, n_channels=20, noise=0.5, seed=1):
    """One "region" per layer: a random linear readout of that layer plus Gaussian noise (n × n_channels)."""
    rng = np.random.default_rng(seed)
    regions = []
    for h in layers:
        w = rng.standard_normal((h.shape[1], n_channels)) / np.sqrt(h.shape[1])
        regions.append(h @ w + noise * rng.standard_normal((h.shape[0], n_channels)))
    return regions


def meg_like(layers, n_sensors=30, n_times=40, latency0=3, latency_step=3, width=2.0, noise=0.5, seed=2):
    """MEG-like responses (stimuli × sensors × times): layer l is read out with a temporal gain peaking at
    ``latency0 + latency_step * l`` samples (Gaussian of ``width`` samples), plus sensor noise.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_times)
    out = noise * rng.standard_normal((layers[0].shape[0], n_sensors, n_times))
    for l, h in enumerate(layers):
        w = rng.standard_normal((h.shape[1], n_sensors)) / np.sqrt(h.shape[1])
        gain = np.exp(-0.5 * ((t - (latency0 + latency_step * l)) / width) ** 2)
        out += (h @ w)[:, :, None] * gain[None, None, :]
    return out
