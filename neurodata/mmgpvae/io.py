"""MM-GPVAE and NWB: modalities read through the spine (binned units, behaviour, ophys), results written back.

Every modality is put on one grid of ``bin_size`` bins over the window all of them cover, then cut into
consecutive trials of ``n_bins`` bins (a last partial trial is dropped). Units become spike counts per bin;
a behavioural or ophys series becomes its mean over the samples in each bin, and a series in radians (unit
"radian(s)", e.g. CompassDirection) becomes the bin means of (cos θ, sin θ), so that the model never sees the
2π wrap. A bin without any sample is an error, not interpolated.
"""
from dataclasses import dataclass, field

import numpy as np

from .. import io
from ..errors import InvalidInputError, NWBContentError
from ..io import Traces
from .metrics import to_trials

__all__ = ["BinnedModalities", "read_modalities", "write_mmgpvae_results"]


@dataclass
class BinnedModalities:
    """What :func:`read_modalities` returns: ``data`` {name: (trials, bins, features)} and the grid."""
    data: dict
    bin_size: float
    start: float             # time of the first bin's left edge (s)
    n_bins: int              # bins per trial
    features: dict = field(default_factory=dict)   # {name: feature labels}
    source: str = ""

    @property
    def n_trials(self):
        return next(iter(self.data.values())).shape[0]

    def trial_starts(self):
        return self.start + np.arange(self.n_trials) * self.n_bins * self.bin_size


def _is_angle(traces):
    return str(traces.unit).lower() in ("radian", "radians", "rad")


def _bin_means(traces, edges, name):
    """Mean of each channel over the samples in each bin [edges[i], edges[i+1])."""
    idx = np.searchsorted(edges, traces.times, side="right") - 1
    keep = (idx >= 0) & (idx < len(edges) - 1)
    idx = idx[keep]
    values = np.asarray(traces.data, float)[keep]
    if _is_angle(traces):
        values = np.concatenate([np.cos(values), np.sin(values)], axis=1)
    n = np.bincount(idx, minlength=len(edges) - 1)
    if np.any(n == 0):
        first = int(np.argmax(n == 0))
        raise InvalidInputError(f"{name}: no sample in {int((n == 0).sum())} bin(s) (first at {edges[first]:.3f} s); "
                                f"use a larger bin_size or restrict the window (start/end) to where it is sampled.")
    sums = np.stack([np.bincount(idx, weights=values[:, j], minlength=len(edges) - 1)
                     for j in range(values.shape[1])], axis=1)
    return sums / n[:, None]


def _resolve(path, name, behavior):
    """The Traces list for one behaviour/ophys modality name: an exact key, or a container's children."""
    if name in behavior:
        return [(name, behavior[name])]
    children = [(k, v) for k, v in behavior.items() if k.startswith(name + "/")]
    if children:
        return children
    try:
        return [(name, io.read_traces(path, name))]
    except NWBContentError:
        pass
    allowed = ["units"] + sorted(behavior) + sorted({k.split("/")[0] for k in behavior})
    raise NWBContentError(f"{path}: has no modality {name!r}. Allowed values are {', '.join(allowed)}.")


def read_modalities(path, modalities=("units",), *, bin_size=0.1, n_bins=60, start=None, end=None):
    """Read and bin ``modalities`` of one NWB file into trials; returns :class:`BinnedModalities`.

    ``modalities``: "units" (the Units table as counts), a behavioural series ("CompassDirection/ry"), a
    container (all its series, "CompassDirection"), or an ophys RoiResponseSeries name.
    """
    if isinstance(modalities, str):
        modalities = (modalities,)
    if not modalities or len(set(modalities)) != len(modalities):
        raise InvalidInputError(f"modalities must name at least one modality, each once; got {list(modalities)}.")
    if not (np.isfinite(bin_size) and bin_size > 0):
        raise InvalidInputError(f"bin_size must be a positive number of seconds; got {bin_size!r}.")
    behavior = None
    sources = {}
    for name in modalities:
        if name == "units":
            sources[name] = [("units", io.read_spikes(path))]
        else:
            if behavior is None:
                try:
                    behavior = io.read_behavior(path)
                except NWBContentError:
                    behavior = {}
            sources[name] = _resolve(path, name, behavior)
    lo = max(max(s.start for _, s in parts) for parts in sources.values())
    hi = min(min(s.end for _, s in parts) for parts in sources.values())
    lo = lo if start is None else max(lo, float(start))
    hi = hi if end is None else min(hi, float(end))
    n_total = int(np.floor((hi - lo) / bin_size + 1e-9)) if hi > lo else 0
    if n_total < n_bins:
        raise InvalidInputError(f"{path}: the modalities {list(modalities)} overlap for {max(hi - lo, 0):.3f} s, "
                                f"less than one trial of {n_bins} bins × {bin_size} s.")
    edges = lo + np.arange(n_total + 1) * bin_size
    data, features = {}, {}
    for name, parts in sources.items():
        columns, labels = [], []
        for key, obj in parts:
            if key == "units":
                counts = obj.count(bin_size, lo, lo + n_total * bin_size)
                columns.append(np.asarray(counts.data, float)[:n_total])
                labels += [f"unit {u}" for u in obj.unit_ids]
            else:
                columns.append(_bin_means(obj, edges, key))
                labels += ([f"cos {key}", f"sin {key}"] if _is_angle(obj) else
                           [f"{key}[{c}]" for c in obj.channels] if obj.n_channels > 1 else [key])
        data[name] = to_trials(np.concatenate(columns, axis=1), n_bins)
        features[name] = labels
    return BinnedModalities(data=data, bin_size=float(bin_size), start=float(lo), n_bins=int(n_bins),
                            features=features, source=str(path))


def _nwb_name(name):
    """NWB object names cannot hold '/' or ':' ("CompassDirection/ry" -> "CompassDirection_ry")."""
    return name.replace("/", "_").replace(":", "_")


def write_mmgpvae_results(path, estimator, binned, *, sources=(), overwrite=False):
    """Write latents, posterior variances, reconstructions and the learned GP hyper-parameters to a new NWB file.

    Latents and reconstructions are time series on the bins' grid (time × channels, trials concatenated);
    ``length_scale_s`` holds each latent's GP length scale in seconds, ``noise_variance_<name>`` each Gaussian
    modality's output variance (names with '/' written with '_'), and the parameters JSON the estimator's
    settings and modality specs.
    """
    z = estimator.transform(binned.data)
    v = estimator.transform_variance(binned.data)
    rec = estimator.reconstruct(binned.data)
    flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731  (trials, bins, k) -> time × k
    common = dict(rate=1.0 / binned.bin_size, start=binned.start)
    traces = {"latents": Traces(flat(z), channels=estimator.latent_names_, unit="a.u.", name="latents", **common),
              "latent_variance": Traces(flat(v), channels=estimator.latent_names_, unit="a.u.",
                                        name="latent_variance", **common)}
    for name, arr in rec.items():
        unit = "count" if any(s["name"] == name and s["kind"] == "poisson" for s in estimator.specs_) else "a.u."
        key = f"reconstruction_{_nwb_name(name)}"
        traces[key] = Traces(flat(arr), unit=unit, name=key,
                                                  channels=binned.features.get(name), **common)
    arrays = {"length_scale_s": np.asarray(estimator.length_scale_) * binned.bin_size,
              "trial_starts": binned.trial_starts()}
    for name, var in estimator.noise_variance_.items():
        arrays[f"noise_variance_{_nwb_name(name)}"] = np.asarray(var)
    params = {k: (v if isinstance(v, (int, float, str, bool, type(None), list, dict)) else repr(v))
              for k, v in estimator.get_params().items()}
    params.update(specs=estimator.specs_, latent_names=estimator.latent_names_, bin_size=binned.bin_size,
                  n_bins=binned.n_bins, modalities=list(binned.data), features=binned.features,
                  epochs_done=estimator.n_epochs_done_, elbo_per_trial=float(estimator.score(binned.data)))
    return io.write_results(path, analysis="mmgpvae", sources=list(sources), parameters=params, arrays=arrays,
                            traces=traces, overwrite=overwrite)
