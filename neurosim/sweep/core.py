"""The sweep driver: registry of sweepable simulations, grid expansion, per-point seeds, resume, summary."""
import hashlib
import inspect
import itertools
import numbers
from pathlib import Path


from neurodata.errors import InvalidInputError
from neurodata.execution import RecordedRun, derive_seed, parse_value, resolve, run_recorded_runs, task_key
from neurodata.utils import check_scalar
from neurosim.registry import simulations as registered_simulations

# model name → "module:function" with signature (params: dict, seed: int, out_path: Path) -> metrics dict,
# writing one NWB file at out_path. A function may carry ``parameters()`` → {name: default} for validation.
# The built-in ones come from the component table (neurosim.registry); register_simulation adds more.
SIMULATIONS = registered_simulations()


def register_simulation(name, target):
    """Make ``name`` sweepable: ``target`` is a function (params, seed, out_path) -> metrics, or its import path
    ``"package.module:function"`` (preferred: nothing is imported until a sweep runs, and workers import it)."""
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"a simulation name must be a non-empty string; got {name!r}.")
    if not (callable(target) or (isinstance(target, str) and ":" in target)):
        raise InvalidInputError(f"target must be a function or 'package.module:function'; got {target!r}.")
    SIMULATIONS[name] = target


def simulation(name):
    """The registered function for ``name``."""
    if name not in SIMULATIONS:
        from neurodata.utils import check_option
        check_option(name, "simulation", sorted(SIMULATIONS))
    return resolve(SIMULATIONS[name])


def parse_grid(specs):
    """``["g=3,4,5", "J=1e-4,2e-4"]`` → ``{"g": [3, 4, 5], "J": [0.0001, 0.0002]}`` (order kept)."""
    grid = {}
    for spec in specs or ():
        name, sep, values = str(spec).partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise InvalidInputError(f"a grid axis is written 'param=v1,v2,…'; got {spec!r}.")
        if name in grid:
            raise InvalidInputError(f"grid parameter {name!r} is given twice.")
        grid[name] = [parse_value(v) for v in values.split(",")]
    return grid


def expand_grid(grid):
    """All points of the Cartesian product, as dicts, the last axis varying fastest."""
    if not isinstance(grid, dict):
        raise InvalidInputError(f"grid must be a dict {{param: [values]}}; got {type(grid).__name__}.")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise InvalidInputError(f"grid[{name!r}] must be a list of values; got {values!r}.")
        keys = [task_key(v) for v in values]
        if not keys:
            raise InvalidInputError(f"grid[{name!r}] is empty.")
        if len(set(keys)) != len(keys):
            raise InvalidInputError(f"grid[{name!r}] repeats a value ({list(values)}); use repeats= for replicates.")
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(grid[n]) for n in names))]


def _check_parameters(name, func, names):
    """Unknown parameter names fail before anything runs, with the allowed names listed."""
    listing = getattr(func, "parameters", None)
    if listing is None:
        return
    allowed = listing() if callable(listing) else listing
    unknown = [n for n in names if n not in allowed]
    if unknown:
        import difflib
        hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, list(allowed), n=1))
                 else repr(u) for u in unknown]
        raise InvalidInputError(f"simulation {name!r} has no parameter {', '.join(hints)}. "
                                f"Allowed values are {', '.join(map(repr, allowed))}.")


def run_sweep(simulation_name, grid, *, out, fixed=None, seed=0, repeats=1, n_jobs=1, scheduler=None,
              client=None, verbose=True, overwrite=False):
    """Run ``simulation_name`` at every point of ``grid``; one NWB file per run and a summary table.

    Parameters
    ----------
    simulation_name : str
        A key of :data:`SIMULATIONS` (model card name, e.g. "lif_network", "ahmad_hawkins_2016").
    grid : dict {param: [values]} or list of "param=v1,v2,…" strings
        Axes of the Cartesian grid.
    out : path
        Folder for ``<name>_<run>_<hash>.nwb`` (one per run), their ``.json`` completion records, and
        ``summary.csv`` / ``summary.nwb``.
    fixed : dict, optional
        Parameters held fixed across the sweep (e.g. ``{"device": "cpp_standalone", "duration": 2.0}``).
    seed : int
        Base seed; each run's seed is ``derive_seed(seed, its parameters and repeat)``, so a run's result does
        not depend on the other points, the number of workers or the order they finish in.
    repeats : int
        Runs per point, with different seeds.
    n_jobs, scheduler, client
        Execution back-end, see :func:`neurodata.execution.run_tasks`.
    overwrite : bool
        Replace a file at a run's output path that no earlier sweep wrote (by default that file is kept and
        the run is reported as failed). Finished runs are skipped either way.

    Returns a :class:`neurodata.execution.Summary`: one row per run (run, repeat, parameters, seed, file,
    status "ok" / "skipped" (finished earlier) / "failed", error, seconds, metrics). Runs whose output is
    already complete are not run again; a failed run never stops the others.
    """
    func = simulation(simulation_name)
    if isinstance(grid, (list, tuple)):
        grid = parse_grid(grid)
    fixed = dict(fixed or {})
    check_scalar(repeats, "repeats", "run_sweep", kind=numbers.Integral, low=1)
    check_scalar(seed, "seed", "run_sweep", kind=numbers.Integral, low=0)
    clash = sorted(set(grid) & set(fixed))
    if clash:
        raise InvalidInputError(f"parameters {clash} are both swept and fixed; give each once.")
    if "seed" in grid or "seed" in fixed:
        raise InvalidInputError("'seed' cannot be swept or fixed: each run's seed is derived from seed= and "
                                "its parameters; use repeats= for several seeds per point.")
    _check_parameters(simulation_name, func, list(grid) + list(fixed))
    points = expand_grid(grid) if grid else [{}]
    out = Path(out)
    target = SIMULATIONS[simulation_name]
    runs = []
    for index, (point, repeat) in enumerate(itertools.product(points, range(repeats))):
        params = {**fixed, **point}
        key = task_key({"simulation": simulation_name, "params": params, "repeat": repeat})
        run_seed = derive_seed(seed, key)
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        out_path = out / f"{simulation_name}_{index:04d}_{digest}.nwb"
        expect = {"simulation": simulation_name, "params": params, "repeat": repeat, "seed": run_seed}
        row = {"run": index, "repeat": repeat, **params, "seed": run_seed, "file": str(out_path)}
        runs.append(RecordedRun(row=row, target=target, args=(dict(params), int(run_seed), out_path),
                                out_path=str(out_path), record_path=str(out_path.with_suffix(".json")),
                                expect=expect, key=out_path.stem))
    return run_recorded_runs(
        runs, out=out, desc=f"sweep {simulation_name}", what="runs", overwrite=overwrite, n_jobs=n_jobs,
        scheduler=scheduler, client=client, verbose=verbose, preload=_preload(),
        summary=dict(analysis="sweep", parameters={"simulation": simulation_name, "grid": grid, "fixed": fixed,
                                                   "seed": seed, "repeats": repeats},
                     description=f"neurosuite sweep of {simulation_name}: one row per run"))


def _preload():
    """Brian2 must be first imported in a worker's main thread (it installs a SIGINT handler)."""
    import importlib.util
    return ("brian2",) if importlib.util.find_spec("brian2") is not None else ()


def signature_defaults(func, exclude=("seed", "verbose")):
    """{name: default} of a function's keyword parameters: the one source of a simulation's defaults."""
    return {name: p.default for name, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty and name not in exclude}
