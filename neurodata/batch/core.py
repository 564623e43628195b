"""The batch driver: registry of per-file analyses, output naming, resume, summary."""
import hashlib
import numbers
import os
from pathlib import Path


from ..errors import DataFileError, InvalidInputError
from ..registry import analyses as registered_analyses
from ..execution import (derive_seed, is_complete, plain_scalar, remove_stale_temporaries, resolve, run_tasks, task_key,
                         write_record, write_summary)
from ..utils import check_option, check_scalar, logger

# analysis name → "module:function" with signature (nwb_path, out_path, params: dict) -> metrics dict, writing
# one results NWB file at out_path. ``parameters()`` on the function lists what params may hold (with
# defaults); when it lists "seed", each file gets its own seed derived from the batch seed. The built-in
# ones come from the component table (neurodata.registry); register_analysis adds more at run time.
ANALYSES = registered_analyses()


def register_analysis(name, target):
    """Make ``name`` usable in batches: ``target`` is (nwb_path, out_path, params) -> metrics, or its import
    path ``"package.module:function"`` (preferred: imported only when a batch runs, on the workers)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidInputError(f"an analysis name must be identifier-like; got {name!r}.")
    if not (callable(target) or (isinstance(target, str) and ":" in target)):
        raise InvalidInputError(f"target must be a function or 'package.module:function'; got {target!r}.")
    ANALYSES[name] = target


def analysis(name):
    """The registered function for ``name``."""
    check_option(name, "analysis", sorted(ANALYSES))
    return resolve(ANALYSES[name])


def run_file(target, nwb_path, out_path, record_path, params, expect):
    """Analyse one file on whichever worker holds it: results NWB, then its completion record; returns metrics."""
    nwb_path, out_path = Path(nwb_path), Path(out_path)
    if not nwb_path.is_file():
        raise DataFileError(f"{nwb_path}: no such file.")
    try:
        metrics = resolve(target)(nwb_path, out_path, dict(params))
        if not isinstance(metrics, dict):
            raise InvalidInputError(f"the analysis returned {type(metrics).__name__}, not a dict of metrics.")
        if not out_path.is_file():
            raise DataFileError(f"the analysis returned without writing {out_path}.")
    except BaseException:
        out_path.unlink(missing_ok=True)  # never leave a results file without its record
        raise
    metrics = {str(k): v for k, v in ((k, plain_scalar(v)) for k, v in metrics.items()) if v is not None}
    write_record(record_path, {"status": "ok", **expect, "file": out_path.name, "metrics": metrics})
    return metrics


def _fingerprint(path):
    """Size and modification time: a changed input is analysed again."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _output_names(files, name):
    """``<stem>.<analysis>.nwb`` per input; inputs sharing a stem get a short hash of their path."""
    stems = [Path(f).name.split(".")[0] for f in files]
    out = []
    for f, stem in zip(files, stems):
        if stems.count(stem) > 1:
            stem = f"{stem}-{hashlib.sha256(str(Path(f).resolve()).encode()).hexdigest()[:6]}"
        out.append(f"{stem}.{name}")
    return out


def _allowed_parameters(name, func):
    listing = getattr(func, "parameters", None)
    return None if listing is None else (listing() if callable(listing) else dict(listing))


def run_batch(analysis_name, files, *, out, params=None, seed=0, n_jobs=1, scheduler=None, client=None,
              verbose=True):
    """Run ``analysis_name`` on every file; one results NWB per input and a summary table.

    Parameters
    ----------
    analysis_name : str
        A key of :data:`ANALYSES` ("bin", "summary", "connectome", "bicluster", "rsa", or registered).
    files : list of paths
        Input NWB files. Missing or unreadable files are reported in the summary, not raised.
    out : path
        Folder for ``<stem>.<analysis>.nwb`` (one per input), their ``.json`` completion records, and
        ``summary.csv`` / ``summary.nwb``.
    params : dict, optional
        Parameters of the analysis (the same for every file).
    seed : int
        Base seed; a stochastic analysis gets ``derive_seed(seed, file and parameters)`` per file.
    n_jobs, scheduler, client
        Execution back-end, see :func:`neurodata.execution.run_tasks`.

    Returns a :class:`neurodata.execution.Summary` with one row per input: file, source, status ("ok",
    "skipped" when done in an earlier run, "failed"), error, seconds and the analysis' metrics.
    """
    func = analysis(analysis_name)
    params = dict(params or {})
    check_scalar(seed, "seed", "run_batch", kind=numbers.Integral, low=0)
    files = [str(f) for f in files]
    if not files:
        raise InvalidInputError("run_batch needs at least one input file.")
    if len(set(map(lambda f: str(Path(f).resolve()), files))) != len(files):
        raise InvalidInputError("the same input file is listed twice.")
    if "seed" in params:
        raise InvalidInputError("give the seed as seed=, not in params: each file's seed is derived from it.")
    allowed = _allowed_parameters(analysis_name, func)
    if allowed is not None:
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise InvalidInputError(f"analysis {analysis_name!r} has no parameter {unknown}. Allowed values are "
                                    f"{sorted(k for k in allowed if k != 'seed')}.")
    stochastic = allowed is not None and "seed" in allowed
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    target = ANALYSES[analysis_name]

    runs, tasks, task_runs = [], [], []
    for nwb_path, stem in zip(files, _output_names(files, analysis_name)):
        out_path, record_path = out / f"{stem}.nwb", out / f"{stem}.json"
        file_params = dict(params)
        if stochastic:
            file_params["seed"] = derive_seed(seed, task_key({"analysis": analysis_name, "file": stem,
                                                              "params": params}))
        expect = {"analysis": analysis_name, "params": file_params, "source": str(Path(nwb_path).resolve()),
                  "source_fingerprint": _fingerprint(nwb_path)}
        row = {"source": nwb_path, "file": str(out_path), **({"seed": file_params["seed"]} if stochastic else {})}
        done = is_complete(out_path, record_path, expect) if expect["source_fingerprint"] else None
        if done is not None:
            runs.append((row, {"status": "skipped", "value": done.get("metrics", {}), "seconds": 0.0}))
            continue
        runs.append((row, None))
        task_runs.append(len(runs) - 1)
        tasks.append(dict(target=target, nwb_path=nwb_path, out_path=str(out_path), record_path=str(record_path),
                          params=file_params, expect=expect))
    if len(tasks) < len(runs):
        logger.info("%d of %d files already analysed in %s; analysing the other %d", len(runs) - len(tasks),
                    len(runs), out, len(tasks))
    outcomes = run_tasks("neurodata.batch.core:run_file", tasks, n_jobs=n_jobs, scheduler=scheduler, client=client,
                         keys=[f"{analysis_name}-{Path(t['out_path']).stem}" for t in tasks],
                         desc=f"batch {analysis_name}", verbose=verbose)
    for i, outcome in zip(task_runs, outcomes):
        runs[i] = (runs[i][0], outcome)

    rows = []
    for row, outcome in runs:
        row = dict(row, status=outcome["status"], error=outcome.get("error", ""),
                   seconds=outcome.get("seconds", float("nan")))
        for name, value in (outcome.get("value") or {}).items():
            row[f"metric_{name}" if name in row else name] = value
        rows.append(row)
    return write_summary(rows, out, analysis="batch",
                           parameters={"analysis": analysis_name, "params": params, "seed": seed,
                                       "inputs": files},
                           description=f"neurosuite batch {analysis_name}: one row per input file", what="files")
