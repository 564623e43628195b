"""Run the benchmarks: each ``bench_*`` function in ``benchmarks/bench_*.py`` times ours and a baseline in
one process and returns a dict; this prints ``name ours baseline ratio`` and writes all results as JSON.

    python benchmarks/run.py                 # quick sizes, every benchmark
    python benchmarks/run.py --full          # the full-scale configurations named in the issues
    python benchmarks/run.py -k spine        # only benchmarks whose name contains "spine"
"""
import argparse
import datetime
import importlib.util
import json
import platform
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(pattern=None):
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in sorted(dir(module)):
            if name.startswith("bench_") and callable(getattr(module, name)):
                if pattern is None or pattern in f"{path.stem}.{name}":
                    yield f"{path.stem}.{name}", getattr(module, name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full-scale configurations (slow)")
    parser.add_argument("-k", dest="pattern", default=None, help="run only benchmarks whose name contains this")
    parser.add_argument("--json", default=None, help="where to write results (default benchmarks/results/…)")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(HERE.parent), str(HERE)]  # the suite (checkout) and shared benchmark helpers
    results, failed = [], 0
    print(f"{'name':58s} {'ours':>10s} {'baseline':>10s} {'ratio':>8s}")
    for qualname, func in discover(args.pattern):
        try:
            res = dict(func(quick=not args.full))
        except Exception as exc:  # one broken benchmark must not hide the others
            failed += 1
            traceback.print_exc()
            results.append({"name": qualname, "error": f"{type(exc).__name__}: {exc}"})
            print(f"{qualname:58s} FAILED: {exc}")
            continue
        res.setdefault("name", qualname)
        ours, base = res.get("ours"), res.get("baseline")
        # ratio > 1 means ours is faster (baseline time / our time)
        res["ratio"] = (base / ours) if ours and base else None
        results.append(res)
        fmt = lambda v: f"{v:10.4g}" if isinstance(v, (int, float)) else f"{'-':>10s}"  # noqa: E731
        print(f"{res['name']:58s} {fmt(ours)} {fmt(base)} {fmt(res['ratio'])}")
        extras = {k: v for k, v in res.items() if k not in ("name", "ours", "baseline", "ratio")}
        if extras:
            print(f"    {json.dumps(extras, default=str)}")
    out = Path(args.json) if args.json else HERE / "results" / (
        datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-full" if args.full else "-quick") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                               "full": args.full, "results": results}, indent=2, default=str))
    print(f"results → {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
