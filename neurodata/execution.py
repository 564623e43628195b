"""Run many independent tasks — sweep points, files of a batch — in-process, with joblib, or on Dask.

One small layer shared by ``neurosim`` sweeps and ``neurodata`` batches; it schedules nothing itself:

- ``n_jobs=1`` and no scheduler: in this process, one task after the other;
- ``n_jobs > 1``: joblib's process pool (loky) on this machine;
- ``scheduler="local"``: a Dask ``LocalCluster`` with ``n_jobs`` worker processes, started and closed here;
- ``scheduler="tcp://host:port"`` or ``client=``: any existing Dask cluster (dask-jobqueue on SLURM/PBS, a
  Kubernetes cluster, ...). A client you pass is left open.

Every task is caught on its own: one failure becomes a record with a clear message and never stops the rest.
Seeds are derived per task from (base seed, task key) with ``numpy.random.SeedSequence``, so a result does
not depend on the number of workers or the order in which tasks finish. Tasks whose output is already
complete are skipped (see :func:`is_complete`), so a killed run resumes where it stopped.

Dask and joblib are imported only when used (``pip install 'neurosuite[dist]'``).
"""
import contextlib
import dataclasses
import hashlib
import importlib
import json
import numbers
import os
import time
import traceback
from pathlib import Path

import numpy as np

from .errors import BackendUnavailableError, DataFileError, InvalidInputError, NeurosuiteError, OutputExistsError
from .utils import FIRST_RUN_NOTE, announce_waits, atomic_path, check_scalar, logger, progress

__all__ = ["RecordedRun", "Summary", "derive_seed", "is_complete", "parse_value", "resolve", "run_recorded",
           "run_recorded_runs", "run_tasks", "task_key", "write_record"]

_DIST_HINT = "pip install 'neurosuite[dist]'  (dask[distributed], dask-jobqueue, joblib)"
WORKER_NOTE = "worker processes start, import the suite and run their tasks; " + FIRST_RUN_NOTE


# ------------------------------------------------------------------------------------------------ seeds
def task_key(obj):
    """A stable text key for a task (canonical JSON: sorted keys, numpy scalars as Python numbers)."""
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, (Path, os.PathLike)):
            return str(o)
        raise TypeError(f"{type(o).__name__} cannot be part of a task key")
    try:
        return json.dumps(obj, sort_keys=True, default=default, separators=(",", ":"))
    except TypeError as exc:
        raise InvalidInputError(f"task parameters must be JSON-serialisable (numbers, strings, lists): {exc}") from None


def derive_seed(base_seed, key):
    """The seed of one task: ``SeedSequence(base_seed, spawn_key=sha256(key))`` → an int in [0, 2**31 - 1).

    Depends only on the base seed and the task's key (e.g. its parameters), never on worker count or order.
    """
    check_scalar(base_seed, "seed", "derive_seed", kind=numbers.Integral, low=0)
    digest = hashlib.sha256(str(key).encode()).digest()
    words = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
    state = np.random.SeedSequence(int(base_seed), spawn_key=words).generate_state(1, dtype=np.uint32)[0]
    return int(state) % (2**31 - 1)  # Brian2's and NumPy's seeders both take this range


def resolve(target):
    """A callable from itself or from an import path ``"package.module:function"`` (imported only now)."""
    if callable(target):
        return target
    if not isinstance(target, str) or ":" not in target:
        raise InvalidInputError(f"expected a callable or an import path 'package.module:function'; got {target!r}.")
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailableError(f"cannot load {target!r}: {type(exc).__name__}: {exc}") from None


def parse_value(text):
    """A parameter value from the command line: int, float, true/false, none, else the string itself."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_assignments(items, option):
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}`` from repeated ``--option name=value`` arguments."""
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(f"{option} is written 'name=value'; got {item!r}.")
        values[name.strip()] = parse_value(text)
    return values


def plain_scalar(value):
    """A JSON/CSV-friendly scalar, or None for anything else (arrays stay in the NWB file)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    return None


# ------------------------------------------------------------------------------------ completion records
def write_record(path, record):
    """Write a JSON run record atomically (temp file in the same folder, fsync, rename), replacing the
    previous record of the same run: records belong to the driver that writes them."""
    with atomic_path(path, overwrite=True) as tmp:
        with open(tmp, "w") as fh:
            json.dump(record, fh, sort_keys=True, indent=1,
                      default=lambda o: o.item() if isinstance(o, np.generic) else str(o))
    return Path(path)


def _nwb_readable(path):
    """True if ``path`` opens as HDF5 with NWB's root attribute (the spine renames files only when complete)."""
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            return "nwb_version" in fh.attrs
    except Exception:
        return False


def is_complete(out_path, record_path, expect):
    """The record of a finished task, or None if it must (re)run.

    Finished means: the JSON record exists, is readable, says ``status == "ok"``, matches every item of
    ``expect`` (parameters, seed, source checksum — so changed inputs are recomputed), and the output NWB
    file it names is there and opens. Records are written only after the output was renamed into place.
    """
    record_path, out_path = Path(record_path), Path(out_path)
    if not record_path.is_file() or not out_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("status") != "ok":
        return None
    if any(json.loads(task_key(record.get(k))) != json.loads(task_key(v)) for k, v in expect.items()):
        return None
    return record if _nwb_readable(out_path) else None


def remove_stale_temporaries(folder):
    """Delete temp files a killed writer left behind (``atomic_path``'s ``.name.*.tmp.nwb`` and ``.name.*.tmp``
    for the records and the summary table)."""
    folder = Path(folder)
    removed = 0
    if folder.is_dir():
        for tmp in list(folder.glob(".*.nwb.*.tmp.nwb")) + list(folder.glob(".*.json.*.tmp")) + \
                list(folder.glob(".*.csv.*.tmp")):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed += 1
    if removed:
        logger.info("removed %d temporary file(s) left by an interrupted run in %s", removed, folder)
    return removed


# ------------------------------------------------------------------------------------------------- running
def _call(func, kwargs):
    """Run one task, catching its failure; returns {"status", "value" | "error", "seconds"}. Runs on workers."""
    t0 = time.perf_counter()
    try:
        value = resolve(func)(**kwargs)
        return {"status": "ok", "value": value, "seconds": time.perf_counter() - t0}
    except Exception as exc:  # one bad task must never stop the others: record it, with where it failed
        # the suite's own errors already name the file and object; for anything else, say where it broke
        where = None if isinstance(exc, NeurosuiteError) or not exc.__traceback__ else \
            traceback.extract_tb(exc.__traceback__)[-1]
        place = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}{place}",
                "seconds": time.perf_counter() - t0}


def _import_or_explain(module):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(f"{module} is needed for this scheduler ({exc}); run: {_DIST_HINT}") from None


def execution_mode(n_jobs=1, scheduler=None, client=None):
    """Which back-end the arguments select: "serial", "joblib", "dask" or "dask-local"."""
    check_scalar(n_jobs, "n_jobs", "run_tasks", kind=numbers.Integral, low=1)
    if client is not None and scheduler is not None:
        raise InvalidInputError("Give either client= or scheduler=, not both.")
    if client is not None:
        return "dask"
    if scheduler is None:
        return "serial" if n_jobs == 1 else "joblib"
    if not isinstance(scheduler, str) or not scheduler:
        raise InvalidInputError(f"scheduler must be 'local' or a Dask scheduler address such as "
                                f"'tcp://10.0.0.1:8786'; got {scheduler!r}.")
    return "dask-local" if scheduler == "local" else "dask"


@contextlib.contextmanager
def dask_client(scheduler=None, client=None, n_workers=2, memory_limit="2GiB"):
    """Yield a Dask client: ``client`` as given (left open), a new one for ``scheduler`` (an address), or a
    ``LocalCluster`` of ``n_workers`` single-threaded worker processes (``scheduler="local"``), closed after.

    Worker processes, not threads: Brian2 keeps its device and scope in process-global state.
    """
    if client is not None:
        yield client
        return
    distributed = _import_or_explain("distributed")
    if scheduler == "local":
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           memory_limit=memory_limit, dashboard_address=None)
        new_client = distributed.Client(cluster)
        try:
            yield new_client
        finally:
            new_client.close()
            cluster.close()
        return
    try:
        new_client = distributed.Client(scheduler, timeout="30s")
    except OSError as exc:
        raise BackendUnavailableError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
    try:
        yield new_client
    finally:
        new_client.close()


def run_tasks(func, tasks, *, n_jobs=1, scheduler=None, client=None, keys=None, desc="tasks", verbose=True,
              preload=()):
    """Run ``func(**task)`` for every task dict; return one outcome dict per task, in the order of ``tasks``.

    Parameters
    ----------
    func : callable or str
        A module-level function or its import path ``"package.module:function"`` (resolved on the worker).
    tasks : list of dict
        Keyword arguments of each call; must be picklable.
    n_jobs : int
        Worker processes for joblib or a LocalCluster (1 with no scheduler: run in this process).
    scheduler : None, "local" or str
        "local" starts a Dask LocalCluster with ``n_jobs`` workers; an address connects to a running cluster.
    client : distributed.Client, optional
        An existing Dask client to submit to (left open).
    keys : list of str, optional
        Names of the tasks (Dask task keys and log lines).
    verbose : bool
        One progress bar over all tasks (updated as each finishes, whatever the back-end).
    preload : sequence of str
        Modules each Dask worker imports in its main thread before running tasks (Dask runs tasks in
        other threads; Brian2, for one, installs a signal handler when first imported, which only the main
        thread may do).

    Each outcome holds ``status`` ("ok" or "failed"), ``value`` (what func returned) or ``error`` (exception
    type, message and line), and ``seconds``. Failures are logged and never raised.
    """
    tasks = list(tasks)
    mode = execution_mode(n_jobs, scheduler, client)
    keys = list(keys) if keys is not None else [f"{desc}-{i}" for i in range(len(tasks))]
    outcomes = [None] * len(tasks)
    if not tasks:
        return outcomes
    bar = progress(total=len(tasks), desc=desc, verbose=verbose)
    finished = [0]
    # workers log to their own processes: the parent says why it waits (worker start-up, first-run compiles)
    waits = (announce_waits(f"{desc}: {len(tasks)} task(s) on {mode} workers", note=WORKER_NOTE,
                            status=lambda: f"{finished[0]} of {len(tasks)} done")
             if mode != "serial" else contextlib.nullcontext())
    try:
        with waits:
            for index, outcome in _dispatch(mode, func, tasks, keys, n_jobs, scheduler, client, tuple(preload)):
                outcomes[index] = outcome
                if outcome["status"] != "ok":
                    logger.warning("%s failed: %s", keys[index], outcome["error"])
                finished[0] += 1
                bar.update(1)
    finally:
        bar.close()
    return outcomes


def _dispatch(mode, func, tasks, keys, n_jobs, scheduler, client, preload):
    """Yield (task index, outcome) as tasks finish."""
    if mode == "serial":
        for i, kw in enumerate(tasks):
            yield i, _call(func, kw)
    elif mode == "joblib":
        joblib = _import_or_explain("joblib")
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        try:
            yield from parallel(joblib.delayed(_indexed_call)(i, func, kw) for i, kw in enumerate(tasks))
        finally:
            _close_joblib_workers()
    else:
        distributed = _import_or_explain("distributed")
        with dask_client(scheduler if mode == "dask" else "local", client, n_workers=n_jobs) as dc:
            if preload:
                _register_preload(dc, preload)
            # unique keys: the same sweep submitted twice to one cluster must not share results
            token = os.urandom(4).hex()
            futures = [dc.submit(_indexed_call, i, func, kw, key=f"{k}-{token}", pure=False)
                       for i, (k, kw) in enumerate(zip(keys, tasks))]
            try:
                for future in distributed.as_completed(futures):
                    try:
                        yield future.result()
                    except Exception as exc:  # a worker died (memory, signal): the task itself is lost
                        index = futures.index(future)
                        yield index, {"status": "failed", "seconds": float("nan"),
                                      "error": f"the Dask worker running it was lost ({type(exc).__name__}: {exc})"}
            finally:
                for future in futures:
                    future.cancel()


def _close_joblib_workers():
    """Stop joblib's reusable worker processes, so that every ``run_tasks`` call starts fresh ones.

    A worker keeps what its tasks left in the process (imports, Brian2's device, numba's compiled kernels).
    Reused by the next call, such workers hung a Brian2 sweep after bi-clustering chains had run on them
    (the test suite's order: batch, bicluster chains, then a sweep).
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def _register_preload(client, modules):
    """Import ``modules`` in every worker's main thread, now and on workers that join later."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class ImportModules(WorkerPlugin):
        name = "neurosuite-preload-" + "-".join(modules)

        def __init__(self, names):
            self.names = names

        def setup(self, worker):
            for module in self.names:
                importlib.import_module(module)

    register = getattr(client, "register_plugin", None) or client.register_worker_plugin
    register(ImportModules(list(modules)))


def _indexed_call(index, func, kwargs):
    return index, _call(func, kwargs)


# -------------------------------------------------------------------------------------------- the summary
@dataclasses.dataclass
class Summary:
    """What a sweep or batch did: one row per run (parameters, file, metrics, status, error) and where the
    table was written (CSV and an NWB results file)."""
    table: object
    csv_path: Path
    nwb_path: Path

    @property
    def n_failed(self):
        return int((self.table["status"] == "failed").sum())

    @property
    def n_skipped(self):
        return int((self.table["status"] == "skipped").sum())

    @property
    def ok(self):
        return self.n_failed == 0

    def __repr__(self):
        return (f"<Summary {len(self.table)} runs: {len(self.table) - self.n_failed} ok "
                f"({self.n_skipped} already done), {self.n_failed} failed → {self.csv_path}>")


def write_summary(rows, out_dir, *, analysis, parameters, name="summary", description=None, what="runs"):
    """Write the run table as ``<out_dir>/<name>.csv`` and ``<name>.nwb`` (sources: the files that exist);
    warn, naming the CSV, when some of the ``what`` (runs, files) failed."""
    import pandas as pd

    from .io import write_results

    table = pd.DataFrame(rows)
    out_dir = Path(out_dir)
    csv_path = out_dir / f"{name}.csv"
    with atomic_path(csv_path, overwrite=True) as tmp:  # the driver's own table, rewritten on every run
        table.to_csv(tmp, index=False)
    produced = [f for f, s in zip(table["file"], table["status"]) if s != "failed" and Path(f).is_file()]
    nwb_table = table.copy()
    for col in nwb_table.columns:  # HDF5 columns need one type: numbers stay numbers, the rest becomes text
        if nwb_table[col].dtype == object:
            nwb_table[col] = [("" if v is None or (isinstance(v, float) and np.isnan(v)) else
                               v if isinstance(v, str) else task_key(v)) for v in nwb_table[col]]
    nwb_path = write_results(out_dir / f"{name}.nwb", analysis=analysis, sources=produced, parameters=parameters,
                             tables={"runs": nwb_table}, description=description, overwrite=True)
    summary = Summary(table, csv_path, nwb_path)
    if summary.n_failed:
        logger.warning("%d of %d %s failed; see the 'error' column of %s", summary.n_failed, len(table), what,
                       csv_path)
    return summary


# ------------------------------------------------------------------------------- resumable recorded runs
@dataclasses.dataclass
class RecordedRun:
    """One unit of a resumable driver (a file of a batch, a point of a sweep).

    ``target(*args)`` writes one NWB file at ``out_path`` and returns a dict of metrics; ``record_path`` gets
    the run's JSON record; ``expect`` is what a finished record must match (parameters, seed, source
    fingerprint) for the run to be skipped next time; ``row`` starts its line of the summary table.
    ``inputs`` must exist when the run starts; ``resumable=False`` runs it even when a record says done.
    """
    row: dict
    target: object
    args: tuple
    out_path: str
    record_path: str
    expect: dict
    key: str
    inputs: tuple = ()
    resumable: bool = True

    def task(self):
        return dict(target=self.target, args=tuple(self.args), out_path=str(self.out_path),
                    record_path=str(self.record_path), expect=self.expect, inputs=tuple(map(str, self.inputs)))


def _claim_output(out_path, record_path, expect, overwrite):
    """Make room for a run's output and claim it with a "running" record.

    An existing output is removed only if this driver made it (its record names it) or ``overwrite`` is
    set; anything else there is somebody's file and stays (``OutputExistsError``). The claim lets a run
    killed after its output appeared but before its record was complete be redone on the next call.
    """
    if out_path.exists():
        try:
            ours = json.loads(Path(record_path).read_text()).get("file") == out_path.name
        except (OSError, ValueError, AttributeError):
            ours = False
        if not (ours or overwrite):
            raise OutputExistsError(out_path)
        out_path.unlink()
    write_record(record_path, {"status": "running", **expect, "file": out_path.name})


def _name(target):
    return target if isinstance(target, str) else getattr(target, "__qualname__", repr(target))


def run_recorded(target, args, out_path, record_path, expect, inputs=(), overwrite=False):
    """Run one recorded unit on whichever worker holds it: claim its output, ``target(*args)`` writes it,
    then its record says "ok" with the metrics (JSON scalars only: arrays stay in the NWB file).

    The output exists only if the run finished (the spine writes atomically); a failed run removes it and
    leaves a "failed" record, so it is simply run again next time. Returns the metrics.
    """
    out_path = Path(out_path)
    for path in inputs:
        if not Path(path).is_file():
            raise DataFileError(f"{path}: no such file.")
    _claim_output(out_path, record_path, expect, overwrite)
    try:
        metrics = resolve(target)(*args)
        if not isinstance(metrics, dict):
            raise InvalidInputError(f"{_name(target)} returned {type(metrics).__name__}, not a dict of metrics.")
        if not out_path.is_file():
            raise DataFileError(f"{_name(target)} returned without writing {out_path}.")
    except BaseException as exc:
        out_path.unlink(missing_ok=True)  # never leave an output without its record
        with contextlib.suppress(Exception):
            write_record(record_path, {"status": "failed", **expect, "file": out_path.name,
                                       "error": f"{type(exc).__name__}: {exc}"})
        raise
    metrics = {str(k): v for k, v in ((k, plain_scalar(v)) for k, v in metrics.items()) if v is not None}
    write_record(record_path, {"status": "ok", **expect, "file": out_path.name, "metrics": metrics})
    return metrics


def run_recorded_runs(runs, *, out, desc, summary, what="runs", overwrite=False, n_jobs=1, scheduler=None,
                      client=None, verbose=True, preload=()):
    """The one driver of resumable recorded runs (``neurodata`` batches, ``neurosim`` sweeps).

    Skips every :class:`RecordedRun` whose record says it finished (:func:`is_complete`), runs the others
    through :func:`run_tasks` (in-process, joblib or Dask), and writes the summary table: one row per run
    with its status ("ok", "skipped", "failed"), error, seconds and metrics (a metric named like a column
    becomes ``metric_<name>``). ``summary`` holds :func:`write_summary`'s ``analysis``, ``parameters`` and
    ``description``. ``overwrite=True`` lets a run replace a file at its output path that this driver did
    not write; finished runs are skipped either way. Returns a :class:`Summary`.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    outcomes, pending = [None] * len(runs), []
    for i, run in enumerate(runs):
        done = is_complete(run.out_path, run.record_path, run.expect) if run.resumable else None
        if done is None:
            pending.append(i)
        else:
            outcomes[i] = {"status": "skipped", "value": done.get("metrics", {}), "seconds": 0.0}
    if len(pending) < len(runs):
        logger.info("%d of %d %s already done in %s; running the other %d", len(runs) - len(pending), len(runs),
                    what, out, len(pending))
    tasks = [dict(runs[i].task(), overwrite=bool(overwrite)) for i in pending]
    results = run_tasks("neurodata.execution:run_recorded", tasks, n_jobs=n_jobs, scheduler=scheduler,
                        client=client, keys=[runs[i].key for i in pending], desc=desc, verbose=verbose,
                        preload=preload)
    for i, outcome in zip(pending, results):
        outcomes[i] = outcome

    rows = []
    for run, outcome in zip(runs, outcomes):
        row = dict(run.row, status=outcome["status"], error=outcome.get("error", ""),
                   seconds=outcome.get("seconds", float("nan")))
        for name, value in (outcome.get("value") or {}).items():
            row[f"metric_{name}" if name in row else name] = value
        rows.append(row)
    return write_summary(rows, out, what=what, **summary)
