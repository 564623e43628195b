"""Ground truth for the MM-GPVAE (Gondur et al. 2023, arXiv 2310.03111): the paper's simulation.

Three independent RBF-kernel GP draws per trial (length scale 10 bins): GP1 (variance 0.3) is shared — it
drives the neurons and rotates a digit by GP1 × 120°; GP2 (variance 0.5) drives the neurons only; GP3
(variance 0.8) plus 1 zooms the digit only (factor |GP3 + 1|). Rates ``exp(W [GP1; GP2] + o)`` with
``W ~ 1.5 U(-1, 1)``, ``o ~ 0.5 U(-1, 1)``; Poisson counts. Each bin shows the next image of the digit 3
(cycling through the set), padded, rotated, then zoomed about its centre and clipped to the frame.

The reference generator (``data_generator.py``) draws MNIST "3"s from jpg files. MNIST is not available
offline here, so the digits are scikit-learn's bundled 8×8 handwritten digits of class 3 (183 images),
upsampled (bilinear) to 28×28 and rescaled to MNIST's 0–255 intensities. With an int ``seed`` the random draws
come from ``numpy.random.RandomState(seed)`` in the reference's order, so seed 32 gives the reference's GPs,
weights, offsets and spike counts exactly; a ``numpy.random.Generator`` is used as given.
"""
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from neurodata.errors import InvalidInputError

__all__ = ["MMGPVAESimulation", "digit_images", "simulate_mmgpvae", "split_trials", "zoom_clipped"]


@dataclass(frozen=True)
class MMGPVAESimulation:
    """The simulated trials, time first within each trial: arrays are (n_trials, n_bins, ...)."""
    spikes: np.ndarray        # (n, T, n_neurons) Poisson counts
    rates: np.ndarray         # (n, T, n_neurons) true rates per bin
    images: np.ndarray        # (n, T, side * side) rotated and zoomed digits, 0-255
    gps: np.ndarray           # (n, T, 3) the three GP draws [shared GP1, neural-only GP2, image-only GP3 + 1]
    angles: np.ndarray        # (n, T) rotation in degrees (GP1 × 120)
    zooms: np.ndarray         # (n, T) GP3 + 1 (the images are zoomed by its absolute value)
    weights: np.ndarray       # (n_neurons, 2) loading of [GP1, GP2]
    offsets: np.ndarray       # (n_neurons,)
    side: int                 # images are side × side
    parameters: dict = field(default_factory=dict)

    @property
    def modalities(self):
        """The two observed modalities as the estimator takes them: {"spikes": counts, "images": pixels}."""
        return {"spikes": self.spikes, "images": self.images}


def _rbf(n_bins, length_scale, variance):
    d = np.arange(n_bins)[None, :] - np.arange(n_bins)[:, None]
    return variance * np.exp(-d ** 2 / (2.0 * length_scale ** 2))


def digit_images(digit=3, size=28):
    """scikit-learn's 8×8 digits of one class, upsampled to size × size and scaled to 0–255, (n, size, size)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    small = data.images[data.target == digit].astype(float)
    big = np.stack([ndimage.zoom(im, size / 8.0, order=1) for im in small])[:, :size, :size]
    return np.clip(big * (255.0 / 16.0), 0.0, 255.0)


def zoom_clipped(image, factor):
    """Zoom a square image about its centre by ``factor`` > 0 keeping its shape: shrinking pads with zeros,
    enlarging crops the centre before zooming, so the result always has the input's size."""
    n = image.shape[0]
    if factor == 1.0:
        return image.copy()
    if factor < 1.0:
        m = int(round(n * factor))
        out = np.zeros_like(image)
        if m < 1:
            return out
        small = ndimage.zoom(image, m / n, order=3)[:m, :m]
        lo = (n - small.shape[0]) // 2
        out[lo:lo + small.shape[0], lo:lo + small.shape[1]] = small
        return out
    m = int(np.ceil(n / factor))
    lo = (n - m) // 2
    big = ndimage.zoom(image[lo:lo + m, lo:lo + m], factor, order=3)
    if big.shape[0] < n:  # rounding left it a pixel short: pad symmetrically
        pad = n - big.shape[0]
        big = np.pad(big, ((pad // 2, pad - pad // 2),) * 2)
    trim = (big.shape[0] - n) // 2
    return big[trim:trim + n, trim:trim + n]


def simulate_mmgpvae(*, n_trials=300, n_bins=60, n_neurons=100, length_scale=10.0, variances=(0.3, 0.5, 0.8),
                     zoom=True, digit=3, digit_size=28, pad=4, seed=32):
    """Simulate the paper's spikes + rotating/zooming digit trials (see the module docstring).

    ``zoom=False`` is the reference's GP-VAE variant (rotation only). ``digit_size`` and ``pad`` set the image
    side (28 + 2·4 = 36 as the paper); smaller values give a faithful miniature for quick tests.
    """
    for name, value in (("n_trials", n_trials), ("n_bins", n_bins), ("n_neurons", n_neurons),
                        ("digit_size", digit_size)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidInputError(f"The {name!r} parameter of simulate_mmgpvae must be an int in the range "
                                    f"[1, inf). Got {value!r} instead.")
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif seed is None or isinstance(seed, (int, np.integer)):
        rng = np.random.RandomState(seed)  # the reference's legacy stream, draw for draw
    else:
        raise InvalidInputError(f"seed must be None, an int or a numpy.random.Generator. Got "
                                f"{type(seed).__name__} instead.")
    mean = np.zeros(n_bins)
    gp1, gp2, gp3 = (rng.multivariate_normal(mean, _rbf(n_bins, length_scale, v), n_trials) for v in variances)
    gp3 = gp3 + 1.0
    weights = 1.5 * rng.uniform(-1.0, 1.0, size=(n_neurons, 2))
    offsets = 0.5 * rng.uniform(-1.0, 1.0, size=n_neurons)
    drive = np.stack([gp1, gp2], axis=-1)                                  # (n, T, 2)
    rates = np.exp(drive @ weights.T + offsets)                            # (n, T, N)
    spikes = rng.poisson(rates)
    angles = gp1 * 120.0                                                   # 2π/3 rad in degrees
    digits = digit_images(digit, digit_size)
    side = digit_size + 2 * pad
    images = np.empty((n_trials, n_bins, side * side))
    for i in range(n_trials):
        for t in range(n_bins):
            img = np.pad(digits[(i * n_bins + t) % len(digits)], pad)
            img = np.clip(ndimage.rotate(img, angles[i, t], reshape=False, order=3), 0.0, 255.0)
            if zoom:
                img = np.clip(zoom_clipped(img, abs(gp3[i, t])), 0.0, 255.0)
            images[i, t] = img.ravel()
    params = dict(n_trials=n_trials, n_bins=n_bins, n_neurons=n_neurons, length_scale=length_scale,
                  variances=list(variances), zoom=zoom, digit=digit, digit_size=digit_size, pad=pad,
                  seed=seed if not isinstance(seed, np.random.Generator) else "Generator",
                  digits="sklearn.datasets.load_digits class 3, bilinear upsampled 8x8 -> 28x28, x255/16")
    return MMGPVAESimulation(spikes=spikes, rates=rates, images=images, gps=np.stack([gp1, gp2, gp3], -1),
                             angles=angles, zooms=gp3, weights=weights, offsets=offsets, side=side,
                             parameters=params)


def split_trials(n_trials, *, test_fraction=0.2, seed=10):
    """(train, test) trial indices, a random split (the reference's 240/60 with seed 10, drawn with numpy)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_trials)
    n_test = int(round(n_trials * test_fraction))
    return np.sort(order[n_test:]), np.sort(order[:n_test])
