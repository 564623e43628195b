"""Small shared helpers: logging, progress bars, seeds, and argument checks with house-style messages."""
import contextlib
import difflib
import logging
import numbers
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import InvalidInputError

logger = logging.getLogger("neurosuite")


def progress(iterable=None, *, total=None, desc=None, verbose=True, **kwargs):
    """Wrap ``iterable`` in a tqdm progress bar; ``verbose=False`` silences it (the one off switch)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not verbose, leave=False, **kwargs)


FIRST_RUN_NOTE = ("on a first run this is mostly one-off code generation and compilation (Brian2's Cython/C++, "
                  "numba), cached for later runs")


WAIT_FIRST_S, WAIT_EVERY_S = 10.0, 15.0  # announce_waits' defaults: no step silent for more than 15 s


@contextlib.contextmanager
def announce_waits(what, *, note=FIRST_RUN_NOTE, first_after=None, every=None, status=None):
    """Say what is going on while a step that shows no progress of its own runs long: after ``first_after``
    seconds (default ``WAIT_FIRST_S``) one INFO message naming ``what`` and ``note`` (why the wait), then one
    every ``every`` seconds (``WAIT_EVERY_S``) with the time so far and, where given, ``status()`` (e.g. "2 of 4
    done"). Messages go to the ``neurosuite`` logger, which the CLIs and the demo show and ``--quiet`` silences;
    a step that ends sooner says nothing."""
    import threading
    import time

    first_after = WAIT_FIRST_S if first_after is None else first_after
    every = WAIT_EVERY_S if every is None else every
    done = threading.Event()
    start = time.monotonic()

    def speak():
        if done.wait(first_after):
            return
        logger.info("%s: still working after %.0f s — %s", what, time.monotonic() - start, note)
        while not done.wait(every):
            extra = f", {status()}" if status is not None else ""
            logger.info("%s: %.0f s so far%s", what, time.monotonic() - start, extra)

    speaker = threading.Thread(target=speak, name=f"announce {what}", daemon=True)
    speaker.start()
    try:
        yield
    finally:
        done.set()
        speaker.join()


def lazy_exports(package, heavy):
    """``(__getattr__, __dir__)`` for a package ``__init__`` whose public names include ``heavy`` ones
    ({name: submodule}, e.g. an estimator importing torch or numba) loaded on first use, so that importing the
    package stays light while ``dir()`` and ``help()`` still list every public name."""
    import importlib
    import sys

    def __getattr__(name):
        if name in heavy:
            return getattr(importlib.import_module(f"{package}.{heavy[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        module = sys.modules[package]
        return sorted(set(vars(module)) | set(module.__all__))

    return __getattr__, __dir__


def check_random_state(seed):
    """Return a ``numpy.random.Generator`` from None, an int, or a Generator (passed through)."""
    if seed is None or isinstance(seed, (numbers.Integral, np.integer)):
        return np.random.default_rng(None if seed is None else int(seed))
    if isinstance(seed, np.random.Generator):
        return seed
    raise InvalidInputError(
        f"seed must be None, an int or a numpy.random.Generator. Got {type(seed).__name__} instead."
    )


def check_scalar(value, name, owner, *, kind=numbers.Real, low=None, high=None,
                 low_inclusive=True, high_inclusive=True):
    """Validate a scalar hyper-parameter with a scikit-learn-style message; return it unchanged."""
    kind_name = {numbers.Integral: "an int", numbers.Real: "a float"}.get(kind, kind.__name__)
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    rng = f"{'[' if low_inclusive and low is not None else '('}{lo}, {hi}{']' if high_inclusive and high is not None else ')'}"
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and isinstance(value, numbers.Real) and not np.isfinite(value):
        ok = False
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        raise InvalidInputError(
            f"The {name!r} parameter of {owner} must be {kind_name} in the range {rng}. Got {value!r} instead."
        )
    return value


def check_option(value, name, allowed):
    """Check that ``value`` is one of ``allowed``; suggest the closest option on a typo."""
    if value in allowed:
        return value
    msg = f"Invalid value for the {name!r} parameter. Allowed values are {', '.join(map(repr, allowed))}, " \
          f"but got {value!r} instead."
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    if close:
        msg += f" Did you mean {close[0]!r}?"
    raise InvalidInputError(msg)


def check_array(x, name, *, ndim=None, min_rows=1, finite=True, dtype=float):
    """Return ``x`` as a new ndarray (never a view the caller could see mutated), checking shape and NaNs."""
    try:
        arr = np.array(x, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be array-like of numbers: {exc}") from None
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        raise InvalidInputError(f"{name} must have {ndim} dimension(s); got shape {arr.shape}.")
    if arr.ndim and arr.shape[0] < min_rows:
        raise InvalidInputError(f"{name} is empty (shape {arr.shape}); at least {min_rows} row(s) needed.")
    if finite and not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InvalidInputError(f"{name} contains {n_bad} NaN or infinite value(s); remove or impute them first.")
    return arr


def check_output_path(path, *, overwrite=False, inputs=(), suffix=None):
    """Check that a writer may create ``path``; return it as a ``Path``.

    Refuses (``OutputExistsError``) an existing file unless ``overwrite=True``; refuses (``InvalidInputError``)
    a directory, a path that is one of ``inputs`` (even with ``overwrite=True``: an input is never written
    over) and, with ``suffix`` (e.g. ``".nwb"``), a name that does not end in it. Writers call it before any
    expensive work so a bad path fails at once; :func:`atomic_path` calls it again.
    """
    from .errors import OutputExistsError

    path = Path(path)
    if suffix is not None and path.suffix.lower() != suffix.lower():
        raise InvalidInputError(f"{path}: an output file must end in {suffix!r} (got {path.suffix or 'no suffix'!r}).")
    if path.is_dir():
        raise InvalidInputError(f"{path}: is a directory; give the path of the file to write.")
    for source in inputs:
        if _same_file(path, source):
            raise InvalidInputError(f"{path}: is one of the inputs; the suite never overwrites an input, even "
                                    "with overwrite=True. Choose another output path.")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputExistsError(path)
    return path


def _same_file(a, b):
    """Whether two paths name one file (resolved, or the same inode for hard links)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist: it cannot be the same file
        return False


@contextlib.contextmanager
def atomic_path(path, *, overwrite=False, inputs=(), suffix=None):
    """Yield a temporary path beside ``path`` to write to; on success fsync it and rename it to ``path``,
    on any failure remove it — so a reader never sees a partial file and a failed write leaves nothing.

    The suite's one way to write a file. ``path`` is checked first (:func:`check_output_path`: an existing
    file needs ``overwrite=True``, ``inputs`` are never written over, ``suffix`` is required). Without
    ``overwrite`` the final rename cannot replace a file that appeared meanwhile (a hard link fails if the
    name is taken).
    """
    from .errors import OutputExistsError

    path = check_output_path(path, overwrite=overwrite, inputs=inputs, suffix=suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    # ".tmp.nwb" keeps an NWB temp file recognisable (remove_stale_temporaries looks for both endings)
    tmp_suffix = ".tmp.nwb" if path.suffix.lower() == ".nwb" else ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=tmp_suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the final file gets the usual permissions
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _rename_no_clobber(tmp, path, OutputExistsError)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _rename_no_clobber(tmp, path, error):
    """Move ``tmp`` to ``path`` only if ``path`` does not exist, atomically where hard links are supported."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise error(path) from None
    except OSError:  # no hard links on this file system: check, then rename (a tiny race remains)
        if os.path.lexists(path):
            raise error(path) from None
        os.replace(tmp, path)
        return
    os.remove(tmp)


def save_figure(fig, path, *, overwrite=False, dpi=110, **kwargs):
    """Save a matplotlib figure through :func:`atomic_path` (an existing file needs ``overwrite=True``);
    the format follows the suffix of ``path`` (PNG when it has none). Returns the path."""
    path = Path(path)
    fmt = path.suffix[1:].lower() or "png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, **kwargs)  # the temp name has no usable suffix: say the format
    return path
