"""One error hierarchy for the whole suite.

Every error raised on bad input derives from :class:`NeurosuiteError`, so a caller (and the CLI) can catch
the suite's own failures without catching programming errors. Each class also derives from the built-in
exception a Python user would expect (``ValueError``, ``OSError``, ``ImportError``).
"""


class NeurosuiteError(Exception):
    """Base class of every error the suite raises on purpose."""


class InvalidInputError(NeurosuiteError, ValueError):
    """An argument has a wrong value, type, shape, or contains NaNs."""


class DataFileError(NeurosuiteError, OSError):
    """A file is missing, unreadable, truncated, or not in the expected format."""


class NWBContentError(NeurosuiteError, ValueError):
    """An NWB file is readable but lacks the object asked for, or the object is malformed."""


class BackendUnavailableError(NeurosuiteError, ImportError):
    """An optional back-end (device, library, accelerator) is not installed or not usable here."""


class NeurosuiteWarning(UserWarning):
    """Base class of the suite's warnings."""


class ConvergenceWarning(NeurosuiteWarning):
    """An iterative method stopped before converging; the message names the knob to turn."""


class OutputExistsError(InvalidInputError):
    """An output path already exists and the caller did not ask to replace it.

    The suite never overwrites a file unless told to: ``overwrite=True`` in Python, ``--overwrite`` on the
    command line. An input of the same call is never overwritten, even then.
    """

    def __init__(self, path):
        self.path = str(path)
        super().__init__(f"{path}: already exists; the suite does not overwrite files unless asked. "
                         "Pass overwrite=True / --overwrite to replace it, or choose another path.")

    def __reduce__(self):  # picklable with its one argument, so it crosses joblib/Dask workers intact
        return type(self), (self.path,)
