"""Event movies: natural images moved along saccade-like random walks, turned into ON/OFF events.

Follows Grimaldi & Perrinet (2023, Biol. Cybern., Sec. 2.1): a motion label per time step switches with
probability 1/``block_length`` (Poisson block durations) to a uniformly drawn class; the view window follows the
integrated trajectory (integer roll + sub-pixel Fourier translation); events fire where the temporal luminance
change exceeds a threshold proportional to the SD of the temporal differences. By default the authors' notebook
rule (the previous step's signed event, times the threshold, is subtracted from the current change); the paper
text's residual rule (changes integrate in a residual image until they fire) is ``rule="residual"``.

Event arrays are dense booleans of shape ``(2, n_steps, x, y)`` (channel 0 = OFF, 1 = ON); a batch of movies is
``(n_movies, 2, n_steps, x, y)`` with labels ``(n_movies, n_steps)``.
"""
import dataclasses
import functools

import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.utils import check_option, check_random_state, check_scalar, progress

from .config import EVENT_RULES, MotionConfig


# ---------------------------------------------------------------------------------------------------------------
# images
# The scikit-image photographs of the default list whose content is textured throughout (no large flat backdrop or
# sky, unlike 'astronaut' and 'rocket'): the closest stand-in here for the paper's van Hateren natural scenes in
# event statistics (see the model card's 'events' entry and tests/test_motion_fidelity.py).
TEXTURED_IMAGES = ("grass", "gravel", "brick", "chelsea", "coffee", "camera")
@functools.lru_cache(maxsize=32)
def load_image(name, scale=1.0):
    """A scikit-image sample image as whitened grayscale float64 with unit SD (read-only, cached).

    Whitening flattens the 1/f amplitude spectrum (filter ``f * exp(-(f / 0.2) ** 4)``, cut off well below
    Nyquist so that sub-pixel motions do not alias in time), as the van Hateren
    images used in the paper were pre-whitened.
    """
    import skimage.data
    from skimage.color import rgb2gray, rgba2rgb
    from skimage.transform import rescale

    try:
        image = getattr(skimage.data, name)()
    except AttributeError:
        raise InvalidInputError(f"scikit-image has no sample image {name!r}; try e.g. 'camera', 'grass', "
                                f"'gravel', 'brick', 'astronaut'.") from None
    image = np.asarray(image, dtype=float)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = rgba2rgb(image / 255.0)
    if image.ndim == 3:
        image = rgb2gray(image / (255.0 if image.max() > 1 else 1.0))
    if scale != 1.0:
        image = rescale(image, scale, anti_aliasing=True)
    white = whiten(image)
    white.setflags(write=False)
    return white


def whiten(image, f0=0.2):
    """Flatten the amplitude spectrum of ``image`` and scale it to zero mean and unit SD."""
    fx = np.fft.fftfreq(image.shape[0])[:, None]
    fy = np.fft.fftfreq(image.shape[1])[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    out = np.fft.ifft2(np.fft.fft2(image - image.mean()) * f * np.exp(-((f / f0) ** 4))).real
    return (out - out.mean()) / out.std()


# ---------------------------------------------------------------------------------------------------------------
# labels and trajectories
def draw_labels(n_steps, n_classes, block_length, rng):
    """Motion label per step: switch to a uniformly drawn class with probability ``1 / block_length``."""
    labels = np.empty(n_steps, dtype=np.int64)
    labels[0] = rng.integers(n_classes)
    switches = rng.random(n_steps) < 1.0 / block_length
    draws = rng.integers(n_classes, size=n_steps)
    for t in range(1, n_steps):
        labels[t] = draws[t] if switches[t] else labels[t - 1]
    return labels


def trajectory(labels, config):
    """Content displacement per step (x, y) in pixels, shape (n_steps, 2); step t moves frame t-1 to frame t.

    The view window moves opposite to the labelled motion, so the image content moves with velocity
    ``speed * (cos(phi), sin(phi))`` in (row, column) coordinates.
    """
    phi, speed = config.class_motion(labels)
    velocity = np.stack([speed * np.cos(phi), speed * np.sin(phi)], axis=1)
    velocity[0] = 0.0  # the first frame has no predecessor
    return np.cumsum(velocity, axis=0)


def render_movie(image, displacement, size, origin, margin=16):
    """Frames (n_steps, x, y) of ``image`` seen through a window whose content is displaced by ``displacement``.

    Frame t samples ``image[origin - displacement[t] + (x, y)]``: the integer part is a crop (coordinate roll),
    the fractional part a phase ramp in Fourier space. The crop keeps ``margin`` pixels between the window and
    the periodic seam of the FFT.
    """
    positions = np.asarray(origin, float)[None, :] - displacement
    low = np.floor(positions.min(axis=0)).astype(int) - margin
    high = np.ceil(positions.max(axis=0)).astype(int) + np.asarray(size) + margin
    if low.min() < 0 or high[0] > image.shape[0] or high[1] > image.shape[1]:
        raise InvalidInputError(f"The trajectory leaves the image ({image.shape}); use a shorter movie or a "
                                f"larger image_scale.")
    crop = image[low[0]:high[0], low[1]:high[1]]
    spectrum = np.fft.fft2(crop)
    fx = np.fft.fftfreq(crop.shape[0])[:, None]
    fy = np.fft.fftfreq(crop.shape[1])[None, :]
    frames = np.empty((len(positions),) + tuple(size))
    for t, pos in enumerate(positions - low):
        shift = np.exp(2j * np.pi * (fx * pos[0] + fy * pos[1]))
        frames[t] = np.fft.ifft2(spectrum * shift).real[:size[0], :size[1]]
    return frames


def make_movie(config, rng, label=None, block_length=None):
    """One movie: frames (n_steps, x, y) in [-1, 1] and labels (n_steps,) drawn from ``config``.

    ``label`` fixes one class for the whole movie; ``block_length`` overrides the config's mean block length.
    """
    rng = check_random_state(rng)
    block = config.block_length if block_length is None else block_length
    if label is None:
        labels = draw_labels(config.n_steps, config.n_classes, block, rng)
    else:
        labels = np.full(config.n_steps, int(label), dtype=np.int64)
    image = load_image(config.images[rng.integers(len(config.images))], config.image_scale)
    displacement = trajectory(labels, config)
    margin = 16  # window origin - displacement must stay `margin` pixels inside the image
    lo = np.ceil(displacement.max(axis=0)).astype(int) + margin + 1
    hi = (np.array(image.shape) - np.array(config.size) - margin - 1
          + np.floor(displacement.min(axis=0)).astype(int))
    if np.any(hi <= lo):
        raise InvalidInputError(f"Image of shape {image.shape} is too small for a {config.size} window moving "
                                f"{np.ptp(displacement, axis=0)} pixels; reduce n_steps or size.")
    origin = np.array([rng.integers(lo[0], hi[0]), rng.integers(lo[1], hi[1])])
    frames = render_movie(image, displacement, config.size, origin, margin=margin)
    frames = frames - frames.mean()
    frames = frames / np.abs(frames).max()
    if config.noise > 0:
        frames = frames + config.noise * rng.standard_normal(frames.shape)
    return np.clip(frames, -1.0, 1.0), labels


# ---------------------------------------------------------------------------------------------------------------
# events
def events_from_movie(frames, selectivity=1.0, threshold=None, rule="notebook"):
    """ON/OFF events (2, n_steps, x, y) bool from frames (n_steps, x, y).

    Parameters
    ----------
    frames : array (n_steps, x, y)
        Luminance frames (the generator's are in [-1, 1]; the differences are linear, not logarithmic, as in
        the authors' notebook).
    selectivity : float > 0
        The threshold is ``selectivity * SD(temporal differences over the whole movie)`` unless ``threshold``
        is given.
    threshold : float >= 0, optional
        An absolute threshold instead.
    rule : {"notebook", "residual"}
        ``"notebook"`` (default; the authors' ``make_events``): the difference of two successive frames minus
        ``threshold`` times the previous step's signed event is compared with +/- threshold; nothing else is
        carried over, so a pixel only keeps firing while its change stays above the threshold.
        ``"residual"`` (the paper text's wording): a residual image, initialised at zero, integrates the
        differences; an event subtracts the signed threshold from it (sub-threshold changes add up until
        they fire; 2-4x more events at the same selectivity).

    Returns
    -------
    events : bool array (2, n_steps, x, y)
        Channel 0 = OFF, 1 = ON; at most one event per voxel, none at step 0 (no previous frame).
    """
    frames = np.asarray(frames, dtype=float)
    if frames.ndim != 3:
        raise InvalidInputError(f"frames must be (n_steps, x, y); got shape {frames.shape}.")
    if not np.all(np.isfinite(frames)):
        raise InvalidInputError("frames contain NaN or infinite values.")
    check_option(rule, "rule", EVENT_RULES)
    diff = np.diff(frames, axis=0)
    if threshold is None:
        check_scalar(selectivity, "selectivity", "events_from_movie", low=0.0, low_inclusive=False)
        threshold = selectivity * diff.std() if diff.size else 0.0
    else:
        check_scalar(threshold, "threshold", "events_from_movie", low=0.0)
    events = np.zeros((2,) + frames.shape, dtype=bool)
    carried = np.zeros(frames.shape[1:])  # residual image, or the previous signed event times the threshold
    for t in range(1, frames.shape[0]):
        if rule == "residual":
            carried += diff[t - 1]
            drive = carried
        else:
            drive = diff[t - 1] - carried
        on = drive > threshold
        off = drive < -threshold
        if rule == "residual":
            carried[on] -= threshold
            carried[off] += threshold
        else:
            carried = threshold * (on.astype(float) - off)
        events[1, t], events[0, t] = on, off
    return events


@dataclasses.dataclass
class MotionDataset:
    """A batch of event movies with their per-step motion labels."""

    events: np.ndarray  # (n_movies, 2, n_steps, x, y) bool
    labels: np.ndarray  # (n_movies, n_steps) int
    config: MotionConfig
    seed: object = None

    def __len__(self):
        return len(self.events)

    @property
    def density(self):
        """Fraction of voxels (polarity x time x space) holding an event."""
        return float(self.events.mean())


def make_dataset(config, n_movies, *, seed=None, block_length=None, label=None, verbose=False):
    """``n_movies`` event movies drawn from ``config`` (labels per step, ON/OFF events)."""
    check_scalar(n_movies, "n_movies", "make_dataset", kind=int, low=1)
    rng = check_random_state(seed)
    events = np.zeros((n_movies, 2, config.n_steps) + config.size, dtype=bool)
    labels = np.zeros((n_movies, config.n_steps), dtype=np.int64)
    for i in progress(range(n_movies), desc="event movies", verbose=verbose):
        frames, labels[i] = make_movie(config, rng, label=label, block_length=block_length)
        events[i] = events_from_movie(frames, config.selectivity, rule=config.event_rule)
    return MotionDataset(events=events, labels=labels, config=config, seed=seed)


# ---------------------------------------------------------------------------------------------------------------
# dense <-> list of events
def events_to_list(events):
    """Dense (2, T, X, Y) events to integer arrays ``(t, polarity, x, y)`` sorted by time."""
    events = np.asarray(events)
    if events.ndim != 4 or events.shape[0] != 2:
        raise InvalidInputError(f"events must be (2, n_steps, x, y); got shape {events.shape}.")
    p, t, x, y = np.nonzero(events)
    order = np.lexsort((y, x, p, t))
    return t[order], p[order], x[order], y[order]


def events_from_list(t, polarity, x, y, shape):
    """Integer event coordinates to a dense bool array of ``shape`` = (2, T, X, Y); checks bounds."""
    t, polarity, x, y = (np.asarray(a, dtype=np.int64).ravel() for a in (t, polarity, x, y))
    if not (len(t) == len(polarity) == len(x) == len(y)):
        raise InvalidInputError("t, polarity, x and y must have the same length.")
    shape = tuple(int(s) for s in shape)
    for name, values, bound in (("polarity", polarity, 2), ("t", t, shape[1]), ("x", x, shape[2]),
                                ("y", y, shape[3])):
        if values.size and (values.min() < 0 or values.max() >= bound):
            raise InvalidInputError(f"Event {name} values must lie in [0, {bound}); got range "
                                    f"[{values.min()}, {values.max()}].")
    events = np.zeros(shape, dtype=bool)
    events[polarity, t, x, y] = True
    return events


def check_events(events, name="events"):
    """Validate a dense event batch (n, 2, T, X, Y) or single movie (2, T, X, Y); return a batch view."""
    events = np.asarray(events)
    if events.ndim == 4:
        events = events[None]
    if events.ndim != 5 or events.shape[1] != 2:
        raise InvalidInputError(f"{name} must be (n_movies, 2, n_steps, x, y) or (2, n_steps, x, y); "
                                f"got shape {events.shape}.")
    if events.dtype != bool and not np.all(np.isin(events, (0, 1))):
        raise InvalidInputError(f"{name} must hold 0/1 (boolean) events.")
    return events


def event_density(events):
    return float(np.mean(events))


# ---------------------------------------------------------------------------------------------------------------
# NWB (the suite's spine)
def write_events(path, events, labels=None, *, dt=1e-3, config=None, description="motion event movies",
                 overwrite=False):
    """Write event movies to NWB: one Units population per movie (``movie<i>``), one unit per address that
    fired, with ``polarity`` / ``x`` / ``y`` columns; labels in a ``motion_labels`` table; shape, dt and the
    configuration as JSON parameters.

    A movie without events has no unit (its population is absent); a batch without any event writes a file
    with no Units table at all (NWB cannot hold an empty one), and :func:`read_events` gives all-zero events
    of the recorded shape back.
    """
    import pandas as pd

    from neurodata.io import SpikeTrains, write_simulation

    events = check_events(events)
    n, _, n_steps, nx, ny = events.shape
    if labels is not None:
        labels = np.asarray(labels).reshape(n, n_steps)
    spikes = {}
    for m in range(n):
        p, t, x, y = np.nonzero(events[m])
        if not len(t):
            continue  # no unit fired in this movie
        address = (p * nx + x) * ny + y
        order = np.lexsort((t, address))
        address, t = address[order], t[order]
        uniq, first = np.unique(address, return_index=True)
        times = np.split(t * dt, first[1:])
        pol, rest = np.divmod(uniq, nx * ny)
        meta = pd.DataFrame({"polarity": np.asarray(POLARITY_NAMES)[pol], "x": rest // ny, "y": rest % ny})
        spikes[f"movie{m}"] = SpikeTrains(times, metadata=meta, start=0.0, end=n_steps * dt,
                                          name=f"movie{m}")
    tables = {}
    if labels is not None:
        tables["motion_labels"] = pd.DataFrame({"movie": np.repeat(np.arange(n), n_steps),
                                                "step": np.tile(np.arange(n_steps), n),
                                                "label": labels.ravel()})
    parameters = {"shape": [n, 2, n_steps, nx, ny], "dt": dt,
                  "config": config.to_dict() if config is not None else None}
    return write_simulation(path, spikes=spikes, tables=tables, parameters=parameters, description=description,
                            resolution=dt, overwrite=overwrite)


POLARITY_NAMES = ("OFF", "ON")


def read_events(path):
    """Read event movies written by :func:`write_events` (or any NWB Units table with polarity/x/y columns
    and a ``population`` per movie): returns (events (n, 2, T, X, Y) bool, labels (n, T) or None, dt)."""
    from neurodata.errors import NWBContentError
    from neurodata.io import read_results, read_spikes

    results = read_results(path)
    shape = results.parameters.get("shape")
    dt = float(results.parameters.get("dt", 1e-3))
    if shape is None:
        raise NWBContentError(f"{path}: no event-movie shape in the neurosuite parameters; was it written by "
                              f"neurosim.motion.write_events?")
    events = np.zeros(shape, dtype=bool)
    try:
        spikes = read_spikes(path)
        meta = spikes.metadata
        for k, times in enumerate(spikes.times):
            movie = int(str(meta["population"].iloc[k]).removeprefix("movie"))
            pol = POLARITY_NAMES.index(str(meta["polarity"].iloc[k]))
            steps = np.rint(np.asarray(times) / dt).astype(int)
            events[movie, pol, steps, int(meta["x"].iloc[k]), int(meta["y"].iloc[k])] = True
    except NWBContentError:
        pass  # no unit fired: all-zero events
    except (KeyError, ValueError, IndexError) as exc:
        raise NWBContentError(f"{path}: units lack valid population/polarity/x/y columns ({exc}).") from None
    labels = None
    table = results.tables.get("motion_labels")
    if table is not None:
        labels = np.zeros(shape[:1] + shape[2:3], dtype=np.int64)
        labels[table["movie"].to_numpy(int), table["step"].to_numpy(int)] = table["label"].to_numpy(int)
    return events, labels, dt
