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
