"""neurodata — the data layer of neurosuite: NWB I/O (the spine) and analyses.

Importing this package stays light: no torch, no brian2, no heavy analysis modules.
"""
from .errors import (BackendUnavailableError, ConvergenceWarning, DataFileError, InvalidInputError,
                     NeurosuiteError, NeurosuiteWarning, NWBContentError)

__version__ = "0.1.0"

__all__ = ["BackendUnavailableError", "ConvergenceWarning", "DataFileError", "InvalidInputError",
           "NeurosuiteError", "NeurosuiteWarning", "NWBContentError", "__version__"]
