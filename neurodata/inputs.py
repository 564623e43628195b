"""The suite's one input contract: what an estimator or compute function accepts as its data, and how it is
checked, so that a transposed, ragged, non-numeric or NaN-holding argument fails at the entry point with the
suite's own error instead of running on the wrong axes (or failing deep inside with a raw ``ValueError``).

Orientation: data are **time first** (time × channels), as everywhere in the spine. Spine objects carry their
orientation (``Traces`` are time × channels by construction, ``SpikeTrains`` are binned into such Traces), so
only a bare array's orientation is guessed, from its shape and what the method needs:

``orientation="long"`` (methods that need long recordings: bicluster MCMC, the dynamic connectome)
    far fewer time points than channels (rows × ``ratio`` ≤ columns) looks transposed → ``InvalidInputError``;
    fewer rows than columns (but not far fewer) may be a short recording → a ``NeurosuiteWarning``.
``orientation="conditions"`` (condition × channel patterns: ``rsa.compute_rdm``)
    the other way round: a channels × conditions array shows as far more rows than columns (306 sensors × 8
    conditions). But so does a legitimate configuration of many conditions in a low-dimensional feature
    space (120 points on a planar spiral, 1000 stimuli × 16 model features), so the shape alone never
    refuses: rows ≥ ``ratio`` × columns with at least 4 columns (4 conditions, were it transposed: the
    fewest an RDM study compares) gives a ``NeurosuiteWarning``. Points in ≤ 3 dimensions never warn.

Either message names the shape and both fixes: ``x.T`` when it is transposed, or a spine object that declares
the orientation (``Traces(x, rate=...)``; ``ConditionResponses`` for patterns) when the shape is right.

Every function here returns a **new** array (or new Traces), so a method can never modify its caller's data.
"""
import os
import warnings
from pathlib import Path

import numpy as np

from .errors import DataFileError, InvalidInputError, NeurosuiteWarning

__all__ = ["DEFAULT_RATIO", "as_time_traces", "check_data", "time_first"]

#: "Far fewer" / "far more": one axis at least this many times the other (see the module docstring).
DEFAULT_RATIO = 4.0

_ORIENTATIONS = (None, "long", "conditions")
_MIN_CONDITIONS = 4  # below this a transposed array would be too few conditions for an RDM study


# ----------------------------------------------------------------------------------------------- sources
def _is_path(data):
    return isinstance(data, (str, os.PathLike))


def _describe(data):
    if isinstance(data, dict):
        return f"a dict (keys {list(data)[:5]})"
    if _is_path(data):
        return f"a path ({str(data)!r})"
    return f"a {type(data).__name__}"


def _spine_traces(data, *, method, bin_size, counts, takes_bin_size=True):
    """Traces from a spine object or an NWB path, or None when ``data`` is neither (an array-like)."""
    from .io import SpikeTrains, Traces

    if isinstance(data, Traces):
        return data
    if isinstance(data, SpikeTrains):
        if bin_size is None:
            how = f"pass bin_size= (s), e.g. {method}(spikes, bin_size=0.05), or " if takes_bin_size else "pass "
            raise InvalidInputError(f"{method}: SpikeTrains need a bin size to become counts (time bins × "
                                    f"units): {how}spikes.count(0.05) (Traces of counts).")
        return data.count(bin_size)
    if _is_path(data):
        from .io import read_spikes, read_traces

        path = Path(data)
        if not path.exists():
            raise DataFileError(f"{method}: {path}: no such file.")
        if bin_size is not None:
            return read_spikes(path).count(bin_size)
        if counts:
            raise InvalidInputError(f"{method}: {path} is read as spikes (its Units table) for a count model; "
                                    "pass bin_size= (s) to bin them, e.g. bin_size=0.05.")
        return read_traces(path)
    return None


def _as_numeric(data, *, method, name, dtype, copy):
    """``data`` as a numeric ndarray, refusing paths, mappings, strings, objects and ragged nesting."""
    if isinstance(data, dict) or _is_path(data) or isinstance(data, (bytes, set, frozenset)):
        raise InvalidInputError(f"{method}: {name} must be a numeric array; got {_describe(data)}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.VisibleDeprecationWarning)  # ragged lists, old numpy
            arr = np.array(data, copy=True) if copy else np.asarray(data)
    except (ValueError, TypeError, np.exceptions.VisibleDeprecationWarning) as exc:
        raise InvalidInputError(f"{method}: {name} must be a rectangular numeric array (rows of equal length); "
                                f"cannot make one from {_describe(data)} ({exc}).") from None
    if arr.dtype.kind not in "biuf":
        what = {"U": "text", "S": "bytes", "O": "Python objects", "c": "complex numbers", "M": "dates",
                "m": "time deltas", "V": "records"}.get(arr.dtype.kind, str(arr.dtype))
        raise InvalidInputError(f"{method}: {name} must hold real numbers; got {what} (dtype {arr.dtype}, "
                                f"shape {arr.shape}).")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype not in (np.float32, np.float64):  # float16 overflows in products (a 181² sum of squares)
        arr = arr.astype(float)
    return arr


# ----------------------------------------------------------------------------------------------- checks
def _check_values(arr, *, method, name, ndim, axes, min_rows, counts, finite=True, missing=False):
    ndims = () if ndim is None else (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if ndim is not None and arr.ndim not in ndims:
        layout = " × ".join(axes[:max(ndims)])
        hint = " (one channel? use x.reshape(-1, 1))" if arr.ndim == 1 and 2 in ndims else ""
        raise InvalidInputError(f"{method}: {name} must have {' or '.join(map(str, ndims))} dimensions "
                                f"({'/'.join(f'{k}-way' for k in ndims)}: {layout}); got shape {arr.shape}{hint}.")
    if arr.size == 0 or (arr.ndim and arr.shape[0] < min_rows):
        raise InvalidInputError(f"{method}: {name} is empty or too short (shape {arr.shape}); at least "
                                f"{min_rows} {axes[0]} with at least one value each are needed.")
    if finite and arr.dtype.kind == "f":
        bad = np.isinf(arr) if missing else ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InvalidInputError(f"{method}: {name} contains {int(bad.sum())} NaN or infinite value(s) (first "
                                    f"at index {first}); the suite does not impute silently — drop or "
                                    "interpolate them first.")
    if counts:
        if np.any(arr < 0):
            raise InvalidInputError(f"{method}: {name} must be non-negative integers (spike counts per bin); got "
                                    f"negative values (min {arr.min()!r}).")
        frac = arr != np.round(arr)
        if frac.any():
            raise InvalidInputError(f"{method}: {name} must be non-negative integers (spike counts per bin); "
                                    f"{int(frac.sum())} value(s) are not (e.g. {arr[frac].flat[0]!r}) — rates in "
                                    "Hz or smoothed traces are not counts. Bin spikes with "
                                    "SpikeTrains.count(bin_size), or pass the SpikeTrains with bin_size=.")


def _check_orientation(shape, *, method, name, axes, orientation, ratio):
    """Error (far off) or warning (may be legitimate) when a bare 2-D array's shape looks transposed."""
    if orientation is None or len(shape) < 2:
        return
    rows, cols = shape[0], shape[1]  # the two named axes; a third (epochs, times) has no say
    first, second = axes[0], axes[1]
    if orientation == "long":
        far, off = rows * ratio <= cols, rows < cols
        what = f"far fewer {first} ({rows}) than {second} ({cols})" if far else \
            f"fewer {first} ({rows}) than {second} ({cols})"
        declare = "Traces(x, rate=...) (time × channels)"
    else:  # never an error: the shape may always be a legitimate low-dimensional configuration
        off = rows >= ratio * cols and cols >= _MIN_CONDITIONS
        far = False
        what = f"far more {first} ({rows}) than {second} ({cols})"
        declare = "neurodata.rsa.ConditionResponses(conditions=..., means=x)"
    if not off:
        return
    expected = f"{first} × {second}"
    msg = (f"{method}: {name} of shape {tuple(shape)} has {what}; {method} expects {expected}, so it looks "
           f"transposed. If it is {second} × {first}, pass x.T")
    if far:
        raise InvalidInputError(msg + f"; if the shape is right, pass it as {declare} to declare the orientation.")
    warnings.warn(msg + f"; if the shape is right, pass it as {declare} to silence this warning.",
                  NeurosuiteWarning, stacklevel=_user_stacklevel())


def _user_stacklevel():
    """Stack level of the first caller outside the neurodata package, so a warning points at the user's line
    (the depth from the entry point to this check differs between methods)."""
    import sys

    here = str(Path(__file__).resolve().parent) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(here):
        frame, level = frame.f_back, level + 1
    return level


def _check_args(method, orientation, ratio):
    if orientation not in _ORIENTATIONS:
        raise InvalidInputError(f"Invalid value for the 'orientation' parameter. Allowed values are "
                                f"{', '.join(map(repr, _ORIENTATIONS))}, but got {orientation!r} instead.")
    if not (np.isscalar(ratio) and ratio >= 1):
        raise InvalidInputError(f"The 'ratio' parameter of {method} input checks must be ≥ 1; got {ratio!r}.")


# ----------------------------------------------------------------------------------------------- the contract
def check_data(data, *, method, name="data", ndim=2, axes=("time points", "channels"), orientation=None,
               counts=False, min_rows=1, ratio=DEFAULT_RATIO, dtype=float, copy=True, conditions=False,
               missing=False):
    """The one data check: ``data`` (an array-like; ``ConditionResponses`` with ``conditions=True``) as a new
    numeric array, after the checks of the module docstring; spine Traces/SpikeTrains/paths are refused here
    (use :func:`time_first` for time-first methods, which reads them).

    Parameters
    ----------
    method : str
        Name used in messages ("BiclusterMCMC.fit").
    ndim : int or tuple of int or None
        Allowed dimensions. ``axes`` names the axes in order (plural nouns) for messages.
    orientation : None, "long" or "conditions"
        The shape rule for bare arrays (see the module docstring); spine objects are trusted.
    counts : bool
        Values must be non-negative integers (a count model).
    dtype : numpy dtype or None
        Result dtype; None keeps float32/float64 and makes other numbers (float16 included) float64.
    copy : bool
        Always True except for read-only callers of huge arrays (NTF), which may get the caller's array back.
    conditions : bool
        Accept ``neurodata.rsa.ConditionResponses`` (its ``means``, conditions first) as declared orientation.
    missing : bool
        NaN marks a missing entry that the method leaves out of its loss (masked NTF); infinities are still
        refused.
    """
    _check_args(method, orientation, ratio)
    declared = False
    if conditions and type(data).__name__ == "ConditionResponses" and hasattr(data, "means"):
        data, declared = data.means, True
    from .io import SpikeTrains, Traces

    if isinstance(data, (Traces, SpikeTrains)):
        raise InvalidInputError(f"{method}: {name} must be an array ({' × '.join(axes[:2])}); got spine "
                                f"{type(data).__name__}, whose first axis is time. "
                                + ("Compute condition responses first: neurodata.rsa.condition_responses(data, "
                                   "trials)." if conditions else "Pass the array it holds (.data) if that is meant."))
    arr = _as_numeric(data, method=method, name=name, dtype=dtype, copy=copy)
    _check_values(arr, method=method, name=name, ndim=ndim, axes=axes, min_rows=min_rows, counts=counts,
                  missing=missing)
    if not declared:
        _check_orientation(arr.shape, method=method, name=name, axes=axes, orientation=orientation, ratio=ratio)
    return arr


def as_time_traces(data, *, method, name="data", rate=None, bin_size=None, counts=False, ndim=2,
                   orientation="long", min_rows=1, ratio=DEFAULT_RATIO, takes_bin_size=True, missing=False):
    """Time-first data as new ``Traces`` (time × channels[× epochs]), keeping rate, timestamps and labels.

    Accepts ``Traces``; ``SpikeTrains`` with ``bin_size`` (s) → counts; an NWB path (``read_spikes`` and
    binning when ``bin_size`` is given, else ``read_traces``); or an array (time × channels), which needs
    ``rate`` (Hz) here because the caller works in seconds. Same checks as :func:`time_first`.
    ``takes_bin_size``: whether the caller has a ``bin_size`` argument to name in messages. ``missing``: NaN
    marks samples not recorded, which the caller leaves out (see :func:`check_data`); the Traces returned
    for an array then has ``missing=True``.
    """
    from .io import Traces

    _check_args(method, orientation, ratio)
    tr = _spine_traces(data, method=method, bin_size=bin_size, counts=counts, takes_bin_size=takes_bin_size)
    axes = ("time points", "channels", "epochs")
    if tr is not None:  # orientation declared by the object; values still checked (counts, dimensions)
        arr = np.array(tr.data, dtype=float, copy=True)
        _check_values(arr, method=method, name=name, ndim=ndim, axes=axes, min_rows=min_rows, counts=counts,
                      missing=missing)
        return tr
    arr = check_data(data, method=method, name=name, ndim=ndim, axes=axes, orientation=orientation,
                     counts=counts, min_rows=min_rows, ratio=ratio, missing=missing)
    if rate is None:
        raise InvalidInputError(f"{method}: an array {name} needs rate= (samples per second) so that times in "
                                "seconds can be converted to samples; or pass Traces.")
    return Traces(arr, rate=rate, name=name, missing=missing)


def time_first(data, *, method, name="data", bin_size=None, counts=False, ndim=2, orientation="long",
               min_rows=1, ratio=DEFAULT_RATIO):
    """The contract for time-first methods: ``data`` as a new float64 array (time × channels[× …]).

    ``data`` may be ``Traces``, ``SpikeTrains`` with ``bin_size`` (s), an NWB path (read through the spine:
    spikes binned at ``bin_size`` when given, else ophys traces) or an array. Raises ``InvalidInputError``
    for non-numeric, ragged, empty or NaN/inf data, for counts that are not non-negative integers when
    ``counts=True``, and for a bare array that looks transposed (``orientation``, see the module docstring);
    ``DataFileError`` / ``NWBContentError`` from the spine for paths.
    """
    _check_args(method, orientation, ratio)
    tr = _spine_traces(data, method=method, bin_size=bin_size, counts=counts)
    axes = ("time points", "channels", "epochs")
    if tr is not None:
        arr = np.array(tr.data, dtype=float, copy=True)
        _check_values(arr, method=method, name=name, ndim=ndim, axes=axes, min_rows=min_rows, counts=counts)
        return arr
    return check_data(data, method=method, name=name, ndim=ndim, axes=axes, orientation=orientation,
                      counts=counts, min_rows=min_rows, ratio=ratio)
