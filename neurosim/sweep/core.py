"""The sweep driver: registry of sweepable simulations, grid expansion, per-point seeds, resume, summary."""
import hashlib
import inspect
import itertools
import numbers
from pathlib import Path


from neurodata.errors import DataFileError, InvalidInputError
from neurodata.execution import (derive_seed, is_complete, plain_scalar, parse_value, remove_stale_temporaries, resolve, run_tasks,
                                 task_key, write_record, write_summary)
from neurodata.utils import check_scalar, logger
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


def run_point(target, params, seed, out_path, record_path, expect):
    """Run one point on whichever worker holds it: simulate → NWB → completion record. Returns the metrics.

    The output exists only if the simulation finished (the spine writes atomically); a record is written
    after it, so a killed or failed point is simply run again next time.
    """
    out_path = Path(out_path)
    try:
        metrics = resolve(target)(dict(params), int(seed), out_path)
        if not isinstance(metrics, dict):
            raise InvalidInputError(f"the simulation returned {type(metrics).__name__}, not a dict of metrics.")
        if not out_path.is_file():
            raise DataFileError(f"the simulation returned without writing {out_path}.")
    except BaseException:
        out_path.unlink(missing_ok=True)  # never leave an output without its record
        raise
    metrics = {str(k): v for k, v in ((k, plain_scalar(v)) for k, v in metrics.items()) if v is not None}
    write_record(record_path, {"status": "ok", **expect, "file": out_path.name, "metrics": metrics})
    return metrics


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
              client=None, verbose=True):
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
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    target = SIMULATIONS[simulation_name]

    runs, tasks, task_runs = [], [], []
    for index, (point, repeat) in enumerate(itertools.product(points, range(repeats))):
        params = {**fixed, **point}
        key = task_key({"simulation": simulation_name, "params": params, "repeat": repeat})
        run_seed = derive_seed(seed, key)
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        out_path = out / f"{simulation_name}_{index:04d}_{digest}.nwb"
        record_path = out_path.with_suffix(".json")
        expect = {"simulation": simulation_name, "params": params, "repeat": repeat, "seed": run_seed}
        row = {"run": index, "repeat": repeat, **params, "seed": run_seed, "file": str(out_path)}
        done = is_complete(out_path, record_path, expect)
        if done is not None:
            runs.append((row, {"status": "skipped", "value": done.get("metrics", {}), "seconds": 0.0}))
            continue
        runs.append((row, None))
        task_runs.append(len(runs) - 1)
        tasks.append(dict(target=target, params=params, seed=run_seed, out_path=str(out_path),
                          record_path=str(record_path), expect=expect))
    if len(tasks) < len(runs):
        logger.info("%d of %d runs already finished in %s; running the other %d", len(runs) - len(tasks),
                    len(runs), out, len(tasks))
    outcomes = run_tasks("neurosim.sweep.core:run_point", tasks, n_jobs=n_jobs, scheduler=scheduler,
                         client=client, keys=[Path(t["out_path"]).stem for t in tasks],
                         desc=f"sweep {simulation_name}", verbose=verbose, preload=_preload())
    for i, outcome in zip(task_runs, outcomes):
        runs[i] = (runs[i][0], outcome)

    rows = []
    for row, outcome in runs:
        metrics = outcome.get("value") or {}
        row = dict(row, status=outcome["status"], error=outcome.get("error", ""),
                   seconds=outcome.get("seconds", float("nan")))
        for name, value in metrics.items():
            row[f"metric_{name}" if name in row else name] = value
        rows.append(row)
    return write_summary(rows, out, analysis="sweep",
                         parameters={"simulation": simulation_name, "grid": grid, "fixed": fixed, "seed": seed,
                                     "repeats": repeats},
                         description=f"neurosuite sweep of {simulation_name}: one row per run", what="runs")


def _preload():
    """Brian2 must be first imported in a worker's main thread (it installs a SIGINT handler)."""
    import importlib.util
    return ("brian2",) if importlib.util.find_spec("brian2") is not None else ()


def signature_defaults(func, exclude=("seed", "verbose")):
    """{name: default} of a function's keyword parameters: the one source of a simulation's defaults."""
    return {name: p.default for name, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty and name not in exclude}
