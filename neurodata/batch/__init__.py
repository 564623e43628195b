"""Batches: one analysis over many NWB files — one results file per input, a summary table, per-file failures.

    from neurodata.batch import run_batch
    summary = run_batch("summary", ["a.nwb", "b.nwb"], out="batch_out", n_jobs=2)   # or scheduler=/client=

Analyses are looked up by name in :data:`ANALYSES` (import paths, loaded only when used); add your own with
:func:`register_analysis`. A bad file is recorded with its error and never stops the others; rerunning skips
the files already done.
"""
from .core import ANALYSES, analysis, register_analysis, run_batch

__all__ = ["ANALYSES", "analysis", "register_analysis", "run_batch"]
