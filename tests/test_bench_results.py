"""The published benchmark table and the model cards' speed figures agree (#25 item 3)."""
import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_module():
    spec = importlib.util.spec_from_file_location("bench_run_for_tests", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _published_rows():
    """qualname -> (ours, baseline, ratio) cells of benchmarks/RESULTS.md's results table."""
    rows = {}
    for line in (ROOT / "benchmarks" / "RESULTS.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`bench_") and not cells[0].startswith("bench_"):
            continue
        match = re.match(r"`?(bench_\w+\.bench_\w+)`?", cells[0])
        rows[match.group(1)] = tuple(cells[1:4])
    return rows


def test_every_card_speed_figure_is_a_row_of_the_published_table():
    run = _run_module()
    rows = _published_rows()
    assert rows, "benchmarks/RESULTS.md has no result rows"
    date = re.search(r"\| date \(UTC\) \| (\S+ \S{5})", (ROOT / "benchmarks" / "RESULTS.md").read_text()).group(1)
    quoted = 0
    for path in sorted((ROOT / "models").glob("*.json")):
        block = json.loads(path.read_text()).get("speed_benchmarks")
        if not block:
            continue
        assert date in block["run"], f"{path.name}: its speed figures are not from the published run ({date})"
        for key, row in block.items():
            if not key.startswith("bench_"):
                continue
            assert key in rows, f"{path.name}: {key} is not in benchmarks/RESULTS.md"
            if "error" in row:  # a benchmark that failed in the published run says so in both places
                assert rows[key][0] == "FAILED", f"{path.name}: {key} failed, the table says {rows[key]}"
                continue
            card = tuple(run._cell(row[k]) for k in ("ours_s", "baseline_s", "ratio"))
            assert card == rows[key], f"{path.name}: {key} says {card}, the table {rows[key]}"
            quoted += 1
    assert quoted >= 10


def test_refresh_replaces_only_the_speed_block(tmp_path):
    run = _run_module()
    source = (ROOT / "models" / "lif_network.json").read_text()
    (tmp_path / "lif_network.json").write_text(source)
    (tmp_path / "no_block.json").write_text('{"name": "x",\n  "numbers": [1, 2]}\n')
    key = next(k for k in json.loads(source)["speed_benchmarks"] if k.startswith("bench_"))
    results = [{"qualname": key, "name": "renamed", "ours": 1.23456, "baseline": 2.5, "ratio": 2.5 / 1.23456},
               {"qualname": "bench_x.bench_failed", "name": "bench_x.bench_failed", "error": "RuntimeError: no"}]
    machine = {"cpu": "Test CPU", "cores": 2, "load_average": [0.5, 0.4, 0.3]}
    changed = run.refresh_model_cards(results, machine=machine, started="2030-01-02 03:04:05",
                                      finished="2030-01-02 03:09:00", load_end=[1.5, 1.0, 0.5], models=tmp_path)
    assert changed == ["lif_network.json"]
    text = (tmp_path / "lif_network.json").read_text()
    block = json.loads(text)["speed_benchmarks"]
    assert block[key] == {"what": "renamed", "ours_s": 1.235, "baseline_s": 2.5, "ratio": 2.025}
    failed = run.card_speed_block({"run": "", "bench_x.bench_failed": {"ours_s": 1.0}}, results, "now")
    assert failed["bench_x.bench_failed"] == {"what": "bench_x.bench_failed", "error": "RuntimeError: no"}
    assert "2030-01-02 03:04 -> 03:09 UTC, Test CPU, 2 cores" in block["run"]
    # everything outside the block is byte-for-byte what it was
    def split(t):
        start = t.index("{", t.index('"speed_benchmarks"'))
        return t[:start], t[json.JSONDecoder().raw_decode(t, start)[1]:]

    assert split(text) == split(source)
    assert (tmp_path / "no_block.json").read_text() == '{"name": "x",\n  "numbers": [1, 2]}\n'
