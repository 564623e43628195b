"""The batch driver: registry of per-file analyses, output naming, resume, summary."""
import hashlib
import numbers
import os
from pathlib import Path


from ..errors import InvalidInputError
from ..registry import analyses as registered_analyses
from ..execution import RecordedRun, derive_seed, resolve, run_recorded_runs, task_key
from ..utils import check_option, check_scalar

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
              verbose=True, overwrite=False):
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
    overwrite : bool
        Replace a file at an output path that no earlier batch wrote (by default that file is kept and its
        input is reported as failed). Finished files are skipped either way; the batch's own unfinished
        outputs are always redone.

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
    target = ANALYSES[analysis_name]
    runs = []
    for nwb_path, stem in zip(files, _output_names(files, analysis_name)):
        out_path, record_path = out / f"{stem}.nwb", out / f"{stem}.json"
        file_params = dict(params)
        if stochastic:
            file_params["seed"] = derive_seed(seed, task_key({"analysis": analysis_name, "file": stem,
                                                              "params": params}))
        expect = {"analysis": analysis_name, "params": file_params, "source": str(Path(nwb_path).resolve()),
                  "source_fingerprint": _fingerprint(nwb_path)}
        row = {"source": nwb_path, "file": str(out_path), **({"seed": file_params["seed"]} if stochastic else {})}
        runs.append(RecordedRun(row=row, target=target, args=(Path(nwb_path), out_path, dict(file_params)),
                                out_path=str(out_path), record_path=str(record_path), expect=expect,
                                key=f"{analysis_name}-{Path(out_path).stem}", inputs=(nwb_path,),
                                resumable=bool(expect["source_fingerprint"])))
    return run_recorded_runs(
        runs, out=out, desc=f"batch {analysis_name}", what="files", overwrite=overwrite, n_jobs=n_jobs,
        scheduler=scheduler, client=client, verbose=verbose,
        summary=dict(analysis="batch", parameters={"analysis": analysis_name, "params": params, "seed": seed,
                                                   "inputs": files},
                     description=f"neurosuite batch {analysis_name}: one row per input file"))
