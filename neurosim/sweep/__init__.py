"""Parameter sweeps: one simulation per grid point, each writing its own NWB file, plus a summary table.

    from neurosim.sweep import run_sweep
    summary = run_sweep("lif_network", {"g": [3, 4, 5, 6], "nu_ext_ratio": [1.0, 2.0]}, out="sweep_out",
                        n_jobs=2)                      # or scheduler="local" / "tcp://…" / client=…

Simulations are looked up by model name in :data:`SIMULATIONS` (import paths, loaded only when used); add
your own with :func:`register_simulation`. Execution is :mod:`neurodata.execution` (in-process, joblib, Dask).
"""
from .core import SIMULATIONS, expand_grid, parse_grid, parse_value, register_simulation, run_sweep, simulation

__all__ = ["SIMULATIONS", "expand_grid", "parse_grid", "parse_value", "register_simulation", "run_sweep",
           "simulation"]
