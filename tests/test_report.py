"""The demo's report (neurodata.report): built from a small fake demo output folder, never the whole demo."""
import base64
import json
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("jinja2")
from neurodata.report import build_report, jsonable  # noqa: E402


def _png(path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    fig.add_subplot().plot([0, 1], [1, 0])
    fig.savefig(path, dpi=40)
    return path


@pytest.fixture
def fake_demo(tmp_path):
    """A demo folder as examples/demo.py leaves it: step folders with a figure and an NWB file each."""
    out = tmp_path / "out"
    out.mkdir()
    _png(out / "summary.png")
    (out / "summary.nwb").write_bytes(b"stand-in")
    steps = {"spine": {"seconds": 1.5, "written": [str(out / "summary.nwb"), str(out / "summary.png")],
                       "numbers": {"n_units": 15, "n_spikes": 1234}}}
    for name, written in {
        "motion": {"events": "motion_events.nwb", "accuracy": np.float64(0.875), "figures": ["motion_pruning.png"]},
        "dendrites": {"nwb": "dendrites_run.nwb", "figure": "dendrites.png",
                      "summary": {"segment_false_positive": {"measured": 0.01, "theory": 0.012, "hits": 3}}},
        "neuroformer": {"nwb": "neuroformer_demo.nwb", "figure": "neuroformer_demo.png",
                        "attention_auroc": "0.71"},  # a step that str()'d its metric
        "sweep": ["sweep/summary.nwb", "sweep.png"],
    }.items():
        step = out / name
        (step / "sweep").mkdir(parents=True)
        files = [f for v in written.values() for f in (v if isinstance(v, list) else [v])] \
            if isinstance(written, dict) else written
        for f in files:
            if isinstance(f, str) and f.endswith(".png"):
                _png(step / f)
            elif isinstance(f, str) and f.endswith(".nwb"):
                (step / f).write_bytes(b"stand-in")
        fix = lambda v: str(step / v) if isinstance(v, str) and v.endswith((".png", ".nwb")) else v  # noqa: E731
        if isinstance(written, dict):
            written = {k: [fix(x) for x in v] if isinstance(v, list) else fix(v) for k, v in written.items()}
        else:
            written = [fix(v) for v in written]
        steps[name] = {"seconds": 2.25, "written": written}
    (out / "demo_report.json").write_text(json.dumps(jsonable(steps)))
    return out, steps


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.current, self.stack = {}, None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-component" in attrs:
            self.current = attrs["data-component"]
            self.sections[self.current] = {"images": [], "tables": set()}
        elif tag == "img" and self.current:
            self.sections[self.current]["images"].append(attrs["src"])
        elif tag == "table" and self.current:
            self.sections[self.current]["tables"].add(attrs.get("class"))

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None


def test_report_page_and_json(fake_demo):
    out, steps = fake_demo
    html_path, json_path = build_report(out)  # reads demo_report.json
    page = _Page()
    page.feed(html_path.read_text(encoding="utf-8"))
    page.close()
    assert set(page.sections) == set(steps)
    for name, section in page.sections.items():
        assert section["images"], f"{name}: no figure"
        assert "numbers" in section["tables"] or name == "sweep", f"{name}: no numbers"
        for src in section["images"]:  # no broken image: every data URI decodes to a PNG
            assert src.startswith("data:image/png;base64,")
            assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert "targets" in page.sections["motion"]["tables"]  # the paper's accuracy from the model card

    record = json.loads(json_path.read_text())
    by_name = {c["name"]: c for c in record["components"]}
    assert by_name["motion"]["numbers"]["accuracy"] == 0.875
    assert by_name["motion"]["targets"]["reported.accuracy_36_motions"] == 0.91
    assert by_name["neuroformer"]["numbers"]["attention_auroc"] == 0.71  # a number, not "0.71"
    assert by_name["dendrites"]["numbers"]["summary.segment_false_positive.theory"] == 0.012
    assert by_name["dendrites"]["nwb"] == ["dendrites/dendrites_run.nwb"]
    assert by_name["spine"]["seconds"] == 1.5
    assert record["environment"]["versions"]["numpy"] == np.__version__

    def no_repr(value):  # every value is JSON proper: no Python repr of a dict or list
        if isinstance(value, dict):
            return all(no_repr(v) for v in value.values())
        if isinstance(value, list):
            return all(no_repr(v) for v in value)
        return not (isinstance(value, str) and value.startswith(("{", "[")))

    assert no_repr(record)
    build_report(out)  # the demo's own files: replaced on a rerun


def test_report_refuses_a_folder_without_demo_output(tmp_path):
    from neurodata.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="demo_report.json"):
        build_report(tmp_path)


def test_jsonable():
    from pathlib import Path

    assert jsonable({"a": np.int64(3), "b": Path("x.nwb"), "c": "1e-3", "d": float("nan"), "e": "text",
                     "f": np.arange(2)}) == {"a": 3, "b": "x.nwb", "c": 0.001, "d": None, "e": "text", "f": [0, 1]}


def _load_demo(monkeypatch, tmp_path):
    """examples/demo.py with its recordings and steps replaced by stand-ins (the real steps take minutes)."""
    import importlib.util
    import sys
    import types
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    monkeypatch.syspath_prepend(str(root / "examples"))
    spec = importlib.util.spec_from_file_location("neurosuite_demo_report", root / "examples" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)

    class Stub:
        n_units, n_spikes, n_channels = 3, 30, 2

    def summarise(spikes, calcium, sources, out_dir, overwrite=False):
        _png(out_dir / "summary.png")
        (out_dir / "summary.nwb").write_bytes(b"stand-in")
        return out_dir / "summary.nwb"

    def step(out_dir, testdata=None, quick=True):
        _png(out_dir / "fake.png")
        (out_dir / "fake.nwb").write_bytes(b"stand-in")
        return {"nwb": out_dir / "fake.nwb", "figure": out_dir / "fake.png", "score": np.float64(0.5),
                "summary": {"hits": np.int64(3), "rate": 0.25}}

    module = types.ModuleType("fake_demo_step")
    module.demo = step
    monkeypatch.setitem(sys.modules, "fake_demo_step", module)
    monkeypatch.setattr(demo, "COMPONENT_STEPS", [("motion", "fake_demo_step:demo")])
    monkeypatch.setattr(demo, "load_recordings", lambda testdata, out_dir, overwrite=False: (Stub(), Stub(), []))
    monkeypatch.setattr(demo, "summarise", summarise)
    return demo, ["--out", str(tmp_path / "out"), "--testdata", str(tmp_path / "no-recordings")]


def test_demo_ends_with_the_report(monkeypatch, tmp_path):
    from neurodata.errors import OutputExistsError

    demo, argv = _load_demo(monkeypatch, tmp_path)
    out = tmp_path / "out"
    assert demo.main(argv) == 0
    steps = json.loads((out / "demo_report.json").read_text())
    assert steps["motion"]["written"]["score"] == 0.5  # JSON numbers and objects, not reprs
    assert steps["motion"]["written"]["summary"] == {"hits": 3, "rate": 0.25}
    record = json.loads((out / "report.json").read_text())
    assert [c["name"] for c in record["components"]] == ["spine", "motion"]
    assert record["components"][1]["figures"] == ["motion/fake.png"]
    first = (out / "report.html").read_text()
    assert demo.main(argv) == 0  # a rerun replaces the demo's own report
    assert (out / "report.html").read_text() != "" and first

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "report.html").write_text("someone else's page")
    with pytest.raises(OutputExistsError):  # a folder the demo did not make: refused before any work
        demo.main(["--out", str(foreign), "--testdata", str(tmp_path / "no-recordings")])
    assert (foreign / "report.html").read_text() == "someone else's page"
    assert not (foreign / "summary.nwb").exists()


def _headless_chromium():
    """A Selenium driver on a headless Chromium, or the reason why none can be had here."""
    import shutil

    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None, "selenium is not installed (pip install selenium; it is in the test extra)"
    browser = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                   None)
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        return None, ("no headless browser here: install Debian's chromium and chromium-driver "
                      "(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options), None


def test_report_opens_in_a_real_browser(fake_demo):
    """#25 item 1: the page opened in headless Chromium shows every section, and every image has loaded
    (complete, with a non-zero natural size). Skips, saying why, where no browser can be installed."""
    out, steps = fake_demo
    html_path, _ = build_report(out)
    browser, why = _headless_chromium()
    if browser is None:
        pytest.skip(why)
    try:
        browser.get(html_path.resolve().as_uri())
        sections = browser.execute_script(
            "return Array.from(document.querySelectorAll('section[data-component]'), s => s.dataset.component);")
        images = browser.execute_script(
            "return Array.from(document.images, i => [i.closest('section') ? i.closest('section').dataset.component"
            " : null, i.complete && i.naturalWidth > 0 && i.naturalHeight > 0]);")
    finally:
        browser.quit()
    assert set(sections) == set(steps)
    assert images and all(loaded for _, loaded in images), f"images that did not load: {images}"
    assert {name for name, _ in images} == set(steps)  # every section shows at least one figure
