"""The demo's report: one self-contained HTML page (figures embedded as base64 PNG) and the same numbers as JSON.

``build_report(out_dir)`` reads the demo's ``demo_report.json`` (what each step wrote, the numbers it returned,
its wall time) and the files under each step's folder, puts each component's headline numbers beside the
paper's targets from its model card, and writes ``report.html`` and ``report.json`` into ``out_dir``. Jinja2
renders the page from ``neurodata/templates/report.html.j2`` (package data); it is imported inside, so
``import neurodata`` stays light.
"""
import base64
import datetime
import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path

from .errors import BackendUnavailableError, InvalidInputError
from .utils import atomic_path

__all__ = ["TARGETS", "build_report", "environment", "jsonable"]

# component (demo step folder) -> its model card and the card entries that hold the paper's targets
# (dotted paths into the card). Components without a card say so on the page.
TARGETS = {
    "dendrites": {"card": "ahmad_hawkins_2016", "targets": []},
    "reservoir": {"card": "yamada_chao_2025_reservoir", "targets": ["status"]},
    "motion": {"card": "grimaldi_perrinet_2023",
               "targets": ["reported.accuracy_36_motions", "reported.chance",
                           "reported.half_accuracy_weight_fraction"]},
    "connectome": {"card": "dyballa_2024_connectome", "targets": ["validation.ntf_planted"]},
    "bicluster": {"card": "wei_2023_bicluster",
                  "targets": ["measured.short_300_sweeps_burn100_thin2.negbin_seed0"]},
    "mmgpvae": {"card": "gondur_2023_mmgpvae", "targets": []},
    "elm": {"card": "spieler_2023_elm", "targets": ["from_the_paper.neuronio_auc"]},
    "sweep": {"card": "lif_network", "targets": []},
}
_PACKAGES = ("neurosuite", "numpy", "scipy", "pandas", "pynwb", "hdmf", "brian2", "torch", "mne", "pymc",
             "arviz", "tensorly", "scikit-learn", "matplotlib", "jinja2", "pynapple", "dask")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def jsonable(value):
    """``value`` as plain JSON: paths → strings, NumPy scalars/arrays → numbers/lists, non-finite → None.

    Strings that spell a number (steps that ``str()`` their metrics) become that number, so the report
    holds JSON numbers, never Python reprs.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy scalar or array
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            return None
        return int(number) if value.strip().lstrip("-").isdigit() else number
    return str(value)


def _flatten(value, prefix=""):
    """Numeric leaves of nested dicts/lists as ``{"a.b": number}`` (short lists of numbers kept whole)."""
    out = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in value):
        if len(value) <= 8:
            out[prefix] = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = value
    return out


def _files(value):
    """Every string leaf of ``value`` (paths a step named)."""
    if isinstance(value, dict):
        return [f for v in value.values() for f in _files(v)]
    if isinstance(value, list):
        return [f for v in value for f in _files(v)]
    return [value] if isinstance(value, str) else []


def _lookup(card, dotted):
    node = card
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _targets(name):
    """(card name, citation, {label: value}) for a component; (None, None, {}) without a card."""
    from .cards import load_card

    spec = TARGETS.get(name)
    if spec is None:
        return None, None, {}
    try:
        card = load_card(spec["card"])
    except Exception:  # a card missing from this install: the page says so instead of failing the demo
        return spec["card"], None, {}
    targets = {}
    for dotted in spec["targets"]:
        value = _lookup(card, dotted)
        if isinstance(value, dict):
            targets.update({f"{dotted}.{k}": v for k, v in _flatten(value).items()})
        elif value is not None:
            targets[dotted] = value
    return spec["card"], card.get("citation"), targets


def environment():
    """Versions, platform, CPU and thread settings (no heavy import: versions come from package metadata)."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu_count": os.cpu_count(),
            "load_average": load, "device": "CPU" + (f" (CUDA_VISIBLE_DEVICES={os.environ['CUDA_VISIBLE_DEVICES']})"
                                                     if os.environ.get("CUDA_VISIBLE_DEVICES") else ""),
            "threads": {var: os.environ.get(var) for var in _THREAD_VARS}, "versions": versions}


def _png_data_uri(path):
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InvalidInputError(f"{path}: is not a PNG file, so it cannot be embedded in the report.")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _component(out_dir, name, step):
    """One component's section: files (figures, NWB, other), numbers, targets, wall time."""
    step = step if isinstance(step, dict) else {}
    named = [Path(f) for f in _files(step.get("written"))]
    folder = out_dir / name
    found = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    files = list(dict.fromkeys([p for p in named if p.is_file()] + found))
    figures = [p for p in files if p.suffix.lower() == ".png"]
    numbers = _flatten(step.get("numbers", step.get("written")))
    card, citation, targets = _targets(name)
    rel = lambda p: os.path.relpath(p, out_dir)  # noqa: E731
    return {"name": name, "status": step.get("status", "done"), "seconds": step.get("seconds"),
            "numbers": numbers, "card": card, "citation": citation, "targets": targets,
            "figures": [rel(p) for p in figures],
            "nwb": [rel(p) for p in files if p.suffix.lower() == ".nwb"],
            "other_files": [rel(p) for p in files if p.suffix.lower() not in (".png", ".nwb")],
            "_figure_paths": figures}


def build_report(out_dir, *, steps=None, env=None, overwrite=True):
    """Write ``report.html`` and ``report.json`` into ``out_dir``; return their paths.

    ``steps`` is ``{component: {"seconds", "written", ...}}`` as in the demo's ``demo_report.json`` (read
    from ``out_dir`` when None). ``env`` defaults to :func:`environment`. Both files are the demo's own and
    are replaced on a rerun (``overwrite``), written atomically.
    """
    try:
        import jinja2
    except ImportError as exc:  # pragma: no cover - jinja2 is an install requirement
        raise BackendUnavailableError("The demo report needs Jinja2: pip install jinja2") from exc
    out_dir = Path(out_dir)
    if steps is None:
        try:
            steps = json.loads((out_dir / "demo_report.json").read_text())
        except (OSError, ValueError) as exc:
            raise InvalidInputError(f"{out_dir}: has no readable demo_report.json to build a report from "
                                    "(run examples/demo.py first).") from exc
    steps = jsonable(steps)
    env = jsonable(env if env is not None else environment())
    components = [_component(out_dir, name, step) for name, step in steps.items()]
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    total = sum(c["seconds"] for c in components if isinstance(c["seconds"], (int, float)))
    record = {"generated": generated, "total_seconds": round(total, 1), "environment": env,
              "components": [{k: v for k, v in c.items() if not k.startswith("_")} for c in components]}
    for section in components:
        section["images"] = [(rel, _png_data_uri(p)) for rel, p in zip(section["figures"], section["_figure_paths"])]
    template = jinja2.Environment(loader=jinja2.PackageLoader("neurodata", "templates"),
                                  autoescape=jinja2.select_autoescape(["html", "j2"]),
                                  undefined=jinja2.StrictUndefined).get_template("report.html.j2")
    html = template.render(report=record, components=components, fmt=_fmt)
    paths = []
    for name, text in (("report.html", html), ("report.json", json.dumps(record, indent=2, allow_nan=False))):
        with atomic_path(out_dir / name, overwrite=overwrite) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
        paths.append(out_dir / name)
    return tuple(paths)


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return "—" if value is None else str(value)
