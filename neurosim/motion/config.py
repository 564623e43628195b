"""Configurations of the heterogeneous-delay motion detector (Grimaldi & Perrinet 2023).

The defaults live in the model card ``models/grimaldi_perrinet_2023.json`` (paper configuration and our reduced
CPU configuration); this module turns a card entry into a frozen dataclass and derives the motion classes.
"""
import dataclasses
import json
import math
import os

import numpy as np

from neurodata.errors import DataFileError, InvalidInputError
from neurodata.utils import check_option, check_scalar

CARD_NAME = "grimaldi_perrinet_2023"
CONFIG_NAMES = ("paper", "reduced")
POLARITIES = ("OFF", "ON")  # channel 0 = OFF, channel 1 = ON, as in the authors' notebook
READOUTS = ("top", "mean", "softmax")
EVENT_RULES = ("notebook", "residual")


@dataclasses.dataclass(frozen=True)
class MotionConfig:
    """Every knob of the stimulus, the model and its training (units: pixels, time steps of ``dt`` seconds)."""

    name: str = "custom"
    # motion classes: directions x speeds (speeds geometric around ``speed_median``)
    n_directions: int = 12
    n_speeds: int = 3
    speed_median: float = 0.5
    speed_base: float = 2.0
    # stimulus
    size: tuple = (128, 128)
    n_steps: int = 200
    dt: float = 1e-3
    block_length: float = 24.0
    selectivity: float = 1.0
    event_rule: str = "notebook"  # "notebook" (authors' make_events) or "residual" (paper text); see events
    noise: float = 1e-3
    images: tuple = ("astronaut", "camera", "coffee", "chelsea", "grass", "gravel", "brick", "rocket")
    image_scale: float = 1.0
    # model
    kernel_size: tuple = (21, 17, 17)
    bias: bool = True
    mask: bool = True
    mask_exponent: float = 4.0
    mask_r0: float = 0.05
    mask_vmax: float = 2.5
    flip: bool = True
    weight_init: float = 1e-2
    weight_init_center: float = 4.0
    # training
    loss: str = "cross_entropy"
    lr: float = 2e-4
    l1: float = 0.0  # L1 prior on the kernel: after each step |K| shrinks by l1 * lr (proximal); 0 in the paper
    lr_schedule: str = "constant"  # "constant" (notebook) or "cosine": anneal to 0 over the epochs
    epochs: int = 200
    n_train: int = 400
    batch_size: int = 1
    augment: bool = False  # random mirrors/transposes of the pixel grid with relabelled directions (see model)
    voxels_per_movie: object = None  # None: loss on every voxel (dense conv3d); int: an unbiased voxel sample
    n_test: int = 200
    test_block_length: float = math.inf
    # read-out: how per-voxel evidence is pooled over space at each time step (see model.HeterogeneousDelayClassifier)
    readout: str = "mean"
    top_fraction: float = 0.15
    # spiking output: per-detector thresholds for this mean rate (spikes/s per detector neuron), winner-take-all
    target_rate: float = 1.0

    def __post_init__(self):
        owner = "MotionConfig"
        for name in ("n_directions", "n_speeds", "n_steps", "epochs", "n_train", "batch_size", "n_test"):
            check_scalar(getattr(self, name), name, owner, kind=int, low=1)
        for name in ("speed_median", "speed_base", "dt", "block_length", "selectivity", "image_scale",
                     "test_block_length"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0):
                raise InvalidInputError(f"The {name!r} parameter of {owner} must be a float in the range "
                                        f"(0, inf]. Got {value!r} instead.")
        check_scalar(self.noise, "noise", owner, low=0.0)
        check_scalar(self.lr, "lr", owner, low=0.0, low_inclusive=False)
        check_scalar(self.l1, "l1", owner, low=0.0)
        check_option(self.loss, "loss", ("cross_entropy", "bce"))
        check_option(self.lr_schedule, "lr_schedule", ("constant", "cosine"))
        check_option(self.readout, "readout", READOUTS)
        check_option(self.event_rule, "event_rule", EVENT_RULES)
        check_scalar(self.target_rate, "target_rate", owner, low=0.0, low_inclusive=False)
        if not 0 < self.top_fraction <= 1:
            raise InvalidInputError(f"The 'top_fraction' parameter of {owner} must be a float in the range (0, 1]. "
                                    f"Got {self.top_fraction!r} instead.")
        if self.augment and self.n_directions % 4:
            raise InvalidInputError(f"augment=True maps directions by 90-degree symmetries, so n_directions must be a "
                                    f"multiple of 4; got {self.n_directions}.")
        if self.voxels_per_movie is not None:
            check_scalar(self.voxels_per_movie, "voxels_per_movie", owner, kind=int, low=1)
        kt, kx, ky = _triple(self.kernel_size, "kernel_size")
        if kx % 2 == 0 or ky % 2 == 0:
            raise InvalidInputError(f"The spatial kernel size must be odd so that taps centre on the pixel; "
                                    f"got kernel_size={self.kernel_size}.")
        sx, sy = _pair(self.size, "size")
        object.__setattr__(self, "kernel_size", (kt, kx, ky))
        object.__setattr__(self, "size", (sx, sy))
        object.__setattr__(self, "images", tuple(self.images))

    @property
    def n_classes(self):
        return self.n_directions * self.n_speeds

    @property
    def n_weights(self):
        """Number of kernel weights (classes x 2 polarities x delays x space), biases excluded."""
        kt, kx, ky = self.kernel_size
        return self.n_classes * 2 * kt * kx * ky

    def class_motion(self, labels=None):
        """Direction (rad) and speed (pixel / step) of each class label (all classes when ``labels`` is None).

        Label = direction index + n_directions * speed index; odd speed rings are rotated by half a direction
        step, and speeds are ``speed_median * speed_base ** (2 i / n_speeds - 1)`` (authors' notebook).
        """
        labels = np.arange(self.n_classes) if labels is None else np.asarray(labels)
        i_dir, i_speed = labels % self.n_directions, labels // self.n_directions
        phi = 2 * np.pi * (i_dir + 0.5 * (i_speed % 2)) / self.n_directions
        speed = self.speed_median * self.speed_base ** (2 * i_speed / self.n_speeds - 1)
        return phi, speed

    def symmetry_permutations(self):
        """Class relabelling under the 8 symmetries of the square pixel grid, shape (8, n_classes).

        Symmetry g = 4 * transpose + 2 * mirror_y + mirror_x maps a movie moving with class c to one moving with
        class ``perm[g, c]`` (a mirror of x negates the x velocity, a transpose swaps x and y; speeds are kept).
        """
        phi, speed = self.class_motion()
        vx, vy = np.cos(phi), np.sin(phi)
        perms = np.empty((8, self.n_classes), dtype=np.int64)
        for g in range(8):
            ux, uy = (-vx if g & 1 else vx), (-vy if g & 2 else vy)
            if g & 4:
                ux, uy = uy, ux
            for c in range(self.n_classes):
                match = np.nonzero(np.isclose(np.cos(phi), ux[c], atol=1e-9) & np.isclose(np.sin(phi), uy[c], atol=1e-9)
                                   & np.isclose(speed, speed[c]))[0]
                if len(match) != 1:
                    raise InvalidInputError("The motion classes are not closed under the square's symmetries; "
                                            "use augment=False.")
                perms[g, c] = match[0]
        return perms

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        out = dataclasses.asdict(self)
        for key in ("test_block_length", "block_length"):
            if math.isinf(out[key]):
                out[key] = "inf"
        return out

    @classmethod
    def from_dict(cls, values):
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise InvalidInputError(f"Unknown MotionConfig field(s) {unknown}; allowed are {sorted(fields)}.")
        values = dict(values)
        for key in ("test_block_length", "block_length"):
            if values.get(key) == "inf":
                values[key] = math.inf
        for key in ("size", "kernel_size", "images"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def _triple(value, name):
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        out = ()
    if len(out) != 3 or min(out) < 1:
        raise InvalidInputError(f"{name} must be three positive ints (delays, x, y); got {value!r}.")
    return out


def _pair(value, name):
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        out = ()
    if len(out) != 2 or min(out) < 1:
        raise InvalidInputError(f"{name} must be two positive ints (x, y); got {value!r}.")
    return out


def load_model_card():
    """The model card as a dict (via ``neurodata.cards`` when present, else the checkout's ``models/``)."""
    try:
        from neurodata.cards import load_card
    except ImportError:
        load_card = None
    if load_card is not None:
        return load_card(CARD_NAME)
    path = os.path.join(os.path.dirname(__file__), "..", "..", "models", CARD_NAME + ".json")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise DataFileError(f"Model card {CARD_NAME!r} not found at {path}: {exc}") from None


def get_config(name="reduced", **overrides):
    """The named configuration from the model card (``"paper"`` or ``"reduced"``), with optional overrides."""
    check_option(name, "config", CONFIG_NAMES)
    card = load_model_card()
    values = dict(card["configurations"][name]["parameters"])
    values["name"] = name
    values.update(overrides)
    return MotionConfig.from_dict(values)
