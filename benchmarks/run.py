"""Run the benchmarks: each ``bench_*`` function in ``benchmarks/bench_*.py`` times ours and a baseline in
one process and returns a dict; this prints ``name ours baseline ratio``, writes all results as JSON under
``benchmarks/results/`` and the published table ``benchmarks/RESULTS.md`` (every ratio, what its baseline is,
the machine: CPU model, cores, load average, date). A run of every benchmark that writes the default table
also refreshes the ``speed_benchmarks`` block of each model card in ``models/`` (the rows the card names), so
the speed figures a card quotes are this table's.

    python benchmarks/run.py                 # quick sizes, every benchmark
    python benchmarks/run.py --full          # the full-scale configurations named in the issues
    python benchmarks/run.py -k spine        # only benchmarks whose name contains "spine"
"""
import argparse
import datetime
import importlib
import inspect
import json
import math
import os
import platform
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "RESULTS.md"
MODELS = HERE.parent / "models"


def discover(pattern=None):
    """Yield (qualname, function, what-it-compares) for every ``bench_*`` function.

    Modules are imported by name from benchmarks/ (on sys.path), not executed from their file path: a
    benchmark that starts children by spawn pickles its child function by module name, and a module loaded
    from a path is not the one the child would import (PicklingError "not the same object as ...").
    """
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        for name in sorted(dir(module)):
            func = getattr(module, name)
            if name.startswith("bench_") and callable(func) and getattr(func, "__module__", None) == path.stem:
                if pattern is None or pattern in f"{path.stem}.{name}":
                    yield f"{path.stem}.{name}", func, describe(module, name, func)


def describe(module, name, func):
    """What a benchmark compares: its docstring, else the paragraph of its module's docstring naming it."""
    doc = inspect.getdoc(func)
    if not doc:
        # a paragraph starts at a line "bench_name: ..." and runs to a blank line or the next such line
        found = []
        for line in (inspect.getdoc(module) or "").splitlines():
            if found and (not line.strip() or line.startswith("bench_")):
                break
            if found or line.startswith(name + ":"):
                found.append(line[len(name) + 1:] if not found else line)
        doc = " ".join(found)
    return " ".join((doc or "").split())


def machine_info():
    """CPU model, cores, load average, Python and platform of this run (Linux /proc where available)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "platform": platform.platform(),
            "python": platform.python_version(), "load_average": _load()}


def _load():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _cell(value):
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, (int, float)):
        return f"{value:.4g}" if math.isfinite(value) else "-"
    return str(value)


def write_results_md(path, *, results, machine, started, finished, full, pattern, load_end, command):
    """Write the published table: one row per benchmark (ours, baseline, ratio, what the baseline is)."""
    load = lambda la: " / ".join(f"{x:.2f}" for x in la) if la else "unavailable"  # noqa: E731
    lines = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run.py` (`make bench`); do not edit by hand. Times in seconds unless the name",
        "says otherwise; ratio = baseline / ours, so > 1 means ours is faster. Each row comes from this one run.",
        "",
        "## Machine and run",
        "",
        "| | |",
        "|---|---|",
        f"| date (UTC) | {started} → {finished} |",
        f"| command | `{command}` |",
        f"| sizes | {'full (--full)' if full else 'quick (default)'} |",
        f"| benchmarks | {'only names containing ' + repr(pattern) if pattern else 'all'} |",
        f"| CPU | {machine['cpu']} |",
        f"| cores | {machine['cores']} ({machine['usable_cores']} usable by this process) |",
        f"| load average (1 / 5 / 15 min) at start | {load(machine['load_average'])} |",
        f"| load average (1 / 5 / 15 min) at end | {load(load_end)} |",
        f"| Python, platform | {machine['python']}, {machine['platform']} |",
        "",
        "A load average above the core count means other work shared the CPUs: read the ratios as indicative.",
        "",
        "## Results",
        "",
        "| benchmark | ours | baseline | ratio | what is compared |",
        "|---|---:|---:|---:|---|",
    ]
    for res in results:
        if "error" in res:
            lines.append(f"| `{res['qualname']}` | FAILED | | | {res['error']} |")
            continue
        label = res["name"] if res["name"] == res["qualname"] else f"`{res['qualname']}`: {res['name']}"
        lines.append(f"| {label} | {_cell(res.get('ours'))} | {_cell(res.get('baseline'))} | "
                     f"{_cell(res.get('ratio'))} | {res.get('description', '')} |")
    extras = [(res, {k: v for k, v in res.items()
                     if k not in ("name", "qualname", "ours", "baseline", "ratio", "description", "error")})
              for res in results]
    extras = [(res, ex) for res, ex in extras if ex]
    if extras:
        lines += ["", "## Other numbers each benchmark reported", ""]
        for res, ex in extras:
            lines.append(f"- `{res['qualname']}`: " + ", ".join(f"{k} = {_cell(v)}" for k, v in ex.items()))
    Path(path).write_text("\n".join(lines) + "\n")


def card_speed_block(block, results, run_line):
    """The card's ``speed_benchmarks`` block with its rows replaced by this run's (rows it names, by qualname)."""
    by_name = {res["qualname"]: res for res in results}
    out = dict(block, run=run_line)
    for key in block:
        if key in by_name:
            res = by_name[key]
            out[key] = {"what": res["name"], "error": res["error"]} if "error" in res else {
                "what": res["name"], "ours_s": _round(res.get("ours")), "baseline_s": _round(res.get("baseline")),
                "ratio": _round(res.get("ratio"))}
    return out


def _round(value):
    """Four significant digits, as the table prints them; None for a missing or non-finite time (JSON has no NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(f"{value:.4g}") if math.isfinite(value) else None


def refresh_model_cards(results, *, machine, started, finished, load_end, models=MODELS):
    """Rewrite the ``speed_benchmarks`` block of every card that has one; the rest of each file is untouched.

    Only the block's text is replaced (cards keep their own layout); returns the cards changed.
    """
    start_load = (machine.get("load_average") or [None])[0]
    end_load = (load_end or [None])[0]
    run_line = (f"benchmarks/RESULTS.md: make bench, {started[:16]} -> {finished[11:16]} UTC, {machine['cpu']}, "
                f"{machine['cores']} cores, quick sizes, load average {start_load} at start and {end_load} at the "
                f"end (a load above the core count means other work shared the CPUs: indicative)")
    changed = []
    decoder = json.JSONDecoder()
    for path in sorted(Path(models).glob("*.json")):
        text = path.read_text()
        key = text.find('"speed_benchmarks": {')
        if key < 0:
            continue
        start = text.index("{", key)
        block, end = decoder.raw_decode(text, start)
        indent = key - (text.rfind("\n", 0, key) + 1)
        body = json.dumps(card_speed_block(block, results, run_line), indent=2, ensure_ascii=False)
        body = body.replace("\n", "\n" + " " * indent)
        new = text[:start] + body + text[end:]
        if new != text:
            json.loads(new)  # never write a card that no longer parses
            path.write_text(new)
            changed.append(path.name)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full-scale configurations (slow)")
    parser.add_argument("-k", dest="pattern", default=None, help="run only benchmarks whose name contains this")
    parser.add_argument("--json", default=None, help="where to write results (default benchmarks/results/…)")
    parser.add_argument("--results-md", default=str(RESULTS_MD),
                        help="the Markdown table to write (default benchmarks/RESULTS.md; '' for none)")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(HERE.parent), str(HERE)]  # the suite (checkout) and shared benchmark helpers
    now = lambda: datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    started, machine = now(), machine_info()
    results, failed = [], 0
    print(f"{'name':58s} {'ours':>10s} {'baseline':>10s} {'ratio':>8s}")
    for qualname, func, description in discover(args.pattern):
        try:
            res = dict(func(quick=not args.full))
        except Exception as exc:  # one broken benchmark must not hide the others
            failed += 1
            traceback.print_exc()
            results.append({"name": qualname, "qualname": qualname, "error": f"{type(exc).__name__}: {exc}"})
            print(f"{qualname:58s} FAILED: {exc}")
            continue
        res.setdefault("name", qualname)
        res["qualname"], res["description"] = qualname, description
        ours, base = res.get("ours"), res.get("baseline")
        # ratio > 1 means ours is faster (baseline time / our time)
        res["ratio"] = (base / ours) if ours and base else None
        results.append(res)
        fmt = lambda v: f"{v:10.4g}" if isinstance(v, (int, float)) else f"{'-':>10s}"  # noqa: E731
        print(f"{res['name']:58s} {fmt(ours)} {fmt(base)} {fmt(res['ratio'])}")
        extras = {k: v for k, v in res.items()
                  if k not in ("name", "qualname", "description", "ours", "baseline", "ratio")}
        if extras:
            print(f"    {json.dumps(extras, default=str)}")
    out = Path(args.json) if args.json else HERE / "results" / (
        datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-full" if args.full else "-quick") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    finished, load_end = now(), _load()
    out.write_text(json.dumps({"machine": machine, "started_utc": started, "finished_utc": finished,
                               "load_average_end": load_end, "full": args.full, "pattern": args.pattern,
                               "results": results}, indent=2, default=str))
    print(f"results → {out}")
    if args.results_md:
        command = "python benchmarks/run.py" + (" --full" if args.full else "") + (
            f" -k {args.pattern}" if args.pattern else "")
        write_results_md(args.results_md, results=results, machine=machine, started=started, finished=finished,
                         full=args.full, pattern=args.pattern, load_end=load_end, command=command)
        print(f"table → {args.results_md}")
        if args.pattern is None and not args.full and Path(args.results_md).resolve() == RESULTS_MD:
            changed = refresh_model_cards(results, machine=machine, started=started, finished=finished,
                                          load_end=load_end)
            print(f"model cards' speed_benchmarks → {', '.join(changed) or 'unchanged'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
