"""One contract for every estimator of the suite (``neurodata.base.Estimator``), checked on each of them.

The estimators are found by reading the sources of ``neurodata`` and ``neurosim`` for classes that derive,
directly or through another suite class, from ``Estimator``, so a new estimator is covered without being
listed here; it then only needs a tiny valid input in ``FIT_CASES`` (a test fails until it has one).
"""
import ast
import copy
import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from neurodata.base import DEFAULT_VERBOSE, Estimator
from neurodata.errors import BackendUnavailableError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("neurodata", "neurosim")


def discover_estimators():
    """{class name: module} of every class in the packages deriving (transitively, by name) from Estimator.

    Read from the sources (no imports): walking the packages by importing them would load brian2 and torch.
    """
    bases, where = {}, {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    names = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", None) for b in node.bases}
                    bases[node.name] = names - {None}
                    where[node.name] = module
    found, grew = {"Estimator"}, True
    while grew:
        new = {name for name, b in bases.items() if b & found} - found
        found |= new
        grew = bool(new)
    return {name: where[name] for name in sorted(found - {"Estimator"})}


ESTIMATORS = discover_estimators()


# ------------------------------------------------------------------------------- a tiny valid input for each
def _bicluster():
    rng = np.random.default_rng(0)
    counts = rng.poisson(2.0, (12, 4)).astype(float)
    counts[0] += 1  # no silent neuron
    return {"n_iter": 4, "burn_in": 1, "thin": 1, "n_chains": 1, "seed": 0}, "fit", (counts,), {}


def _ntf():
    rng = np.random.default_rng(0)
    tensor = np.einsum("tr,ar,pr->tap", rng.random((8, 2)), rng.random((2, 2)), rng.random((6, 2)))
    return {"rank": 2, "n_restarts": 2, "seed": 0}, "fit", (tensor,), {}


def _sbm():
    rng = np.random.default_rng(0)
    blocks = np.repeat([0, 1], 6)
    w = rng.exponential(1.0, (12, 12)) * (blocks[:, None] == blocks[None, :])
    w = np.triu(w, 1)
    return {"max_blocks": 3, "n_init": 2, "seed": 0}, "fit", (w + w.T,), {}


def _connectome():
    from neurosim.groundtruth.connectome import simulate_dynamic_communities

    sim = simulate_dynamic_communities(n_neurons=10, n_animals=2, duration=40.0,
                                       members=np.array([np.arange(10) < 5]), animals=np.ones((1, 2), bool),
                                       seed=0)
    return ({"rank": 1, "n_restarts": 2, "resolution": 1.0, "max_blocks": 3, "sbm_n_init": 2, "seed": 0}, "fit",
            (list(sim.traces),), {})


def _ridge():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    return {"alphas": (0.1, 10.0), "cv": 2}, "fit", (X, X @ rng.normal(size=(3, 2))), {}


def _rls():
    from neurosim.reservoir.task import Paradigm

    paradigm = Paradigm([20.0, 40.0], [1.0, 0.5], 4, trial_ms=50.0, iti_ms=10.0, seed=0)
    features = np.random.default_rng(0).normal(size=(4, 50, 6)).astype(np.float32)
    return {"reset_at_trial": 2}, "fit_trials", (features, paradigm, 8.0), {}


def _motion():
    pytest.importorskip("torch")
    from neurosim.motion.config import MotionConfig
    from neurosim.motion.events import make_dataset

    config = MotionConfig(n_directions=4, n_speeds=1, speed_median=1.0, size=(8, 8), n_steps=6,
                          kernel_size=(3, 3, 3), epochs=1, batch_size=2, voxels_per_movie=8, lr=1e-2)
    data = make_dataset(config, 2, seed=0)
    return {"config": config, "n_threads": 1, "device": "cpu", "seed": 0}, "fit", (data.events, data.labels), {}


def _mmgpvae():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    modalities = {"spikes": rng.poisson(1.0, (4, 16, 3)).astype(float), "lfp": rng.normal(size=(4, 16, 2))}
    return ({"epochs": 1, "batch_size": 2, "device": "cpu", "n_threads": 1, "seed": 0}, "fit", (modalities,),
            {})


def _neuroformer():
    pytest.importorskip("torch")
    from neurodata.io import SpikeTrains

    rng = np.random.default_rng(0)
    spikes = SpikeTrains([np.sort(rng.uniform(0, 3.0, 30)) for _ in range(3)], start=0.0, end=3.0)
    return ({"n_embd": 8, "n_head": 2, "n_state": 1, "n_history": 1, "n_self": 1, "epochs": 1, "device": "cpu",
             "n_threads": 1, "seed": 0}, "fit", (spikes,), {})


def _neuronio():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    inputs = rng.poisson(0.05, (150, 4)).astype(float)  # excitatory half, then inhibitory half
    spikes = (rng.random(150) < 0.02).astype(float)
    soma_v = -0.07 + 0.002 * rng.standard_normal(150)
    return ({"memory": 2, "routing": None, "window": 0.05, "burn_in": 0.01, "n_epochs": 1, "batches_per_epoch": 1,
             "batch_size": 2, "validation_fraction": 0.0, "device": "cpu", "n_threads": 1, "seed": 0}, "fit",
            (inputs, spikes, soma_v), {})


def _elm_adding():
    pytest.importorskip("torch")
    from neurosim.elm.adding import make_adding_task

    task = make_adding_task(6, n_channels=4, n_patterns=2, duration=0.08, pattern_duration=0.02,
                            first_onsets=(0.0, 0.01), second_onsets=(0.04, 0.06), seed=1)
    return ({"memory": 2, "n_epochs": 1, "batch_size": 4, "validation_fraction": 0.0, "device": "cpu",
             "n_threads": 1, "seed": 0}, "fit", (task.spikes, task.labels), {})


FIT_CASES = {"BiclusterMCMC": _bicluster, "NTF": _ntf, "WeightedSBM": _sbm, "DynamicConnectome": _connectome,
             "RidgeEncoder": _ridge, "RLSReadout": _rls, "HeterogeneousDelayClassifier": _motion,
             "MMGPVAE": _mmgpvae, "Neuroformer": _neuroformer, "NeuronIOModel": _neuronio,
             "ELMAddingClassifier": _elm_adding}


def _case(name):
    if name not in FIT_CASES:
        pytest.fail(f"add a tiny valid input for {name} to FIT_CASES in tests/test_estimators.py")
    return FIT_CASES[name]()


def _load(name):
    try:
        module = importlib.import_module(ESTIMATORS[name])
    except (ImportError, BackendUnavailableError) as exc:  # an optional extra (torch) is missing
        pytest.skip(f"{name}: {exc}")
    return getattr(module, name)


def _same(a, b):
    """Equal down to the bits: arrays by dtype, shape and content (NaN equal to NaN), objects by their state."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if hasattr(a, "equals") and callable(a.equals):  # pandas
        return bool(a.equals(b))
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return _same(vars(a), vars(b))
    return a == b


def _numpydoc_sections(doc):
    """{section title: its text} of a numpydoc docstring (titles underlined with dashes)."""
    import textwrap

    lines = textwrap.dedent("\n".join((doc or "").splitlines()[1:])).splitlines()
    sections, title = {}, None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()) and line.strip():
            title = line.strip()
            sections[title] = ""
        elif title and not re.fullmatch(r"-{3,}", line.strip()):
            sections[title] += line + "\n"
    return sections


# ---------------------------------------------------------------------------------------------- the checks
def test_estimators_are_found_and_each_has_a_tiny_input():
    assert {"BiclusterMCMC", "NTF", "WeightedSBM", "DynamicConnectome", "RidgeEncoder", "RLSReadout",
            "HeterogeneousDelayClassifier"} <= set(ESTIMATORS)
    missing = sorted(set(ESTIMATORS) - set(FIT_CASES))
    assert not missing, f"add a tiny valid input for {missing} to FIT_CASES in tests/test_estimators.py"
    stale = sorted(set(FIT_CASES) - set(ESTIMATORS))
    assert not stale, f"FIT_CASES names classes that are no suite estimator: {stale}"


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_hyper_parameters_are_keyword_only_and_stored_unchanged(name):
    cls = _load(name)
    assert issubclass(cls, Estimator)
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    positional = [p.name for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert not positional, f"{name}.__init__ takes {positional} positionally; put them after '*'"
    assert all(p.default is not inspect.Parameter.empty for p in params), f"{name}: every parameter needs a default"
    if "verbose" in {p.name for p in params}:
        assert inspect.signature(cls.__init__).parameters["verbose"].default is DEFAULT_VERBOSE
    first = params[0].default
    with pytest.raises(TypeError):
        cls(first)
    # stored as given, under its own name, and nothing else set
    kwargs = _case(name)[0]
    est = cls(**kwargs)
    assert set(vars(est)) == {p.name for p in params}
    for key, value in kwargs.items():
        assert getattr(est, key) is value, key


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_get_set_params_and_clone_round_trip(name):
    from sklearn.base import clone

    cls = _load(name)
    kwargs = _case(name)[0]
    est = cls(**kwargs)
    params = est.get_params()
    assert set(params) == set(inspect.signature(cls.__init__).parameters) - {"self"}
    twin = clone(est)
    assert twin is not est and type(twin) is cls
    assert _same(twin.get_params(), params)
    assert _same(cls(**params).get_params(), params)
    key = sorted(kwargs)[0]
    assert est.set_params(**{key: kwargs[key]}) is est and est.get_params()[key] is kwargs[key]
    with pytest.raises(ValueError):
        est.set_params(no_such_parameter=1)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_fit_returns_self_leaves_inputs_alone_and_learns_trailing_underscore_state(name):
    from sklearn.base import clone

    cls = _load(name)
    kwargs, method, args, fit_kwargs = _case(name)
    est = cls(**kwargs)
    params_before = est.get_params()
    attrs_before = set(vars(est))
    copies = copy.deepcopy((args, fit_kwargs))
    assert getattr(est, method)(*args, **fit_kwargs) is est
    assert _same((args, fit_kwargs), copies), f"{name}.{method} modified its input"
    assert _same(est.get_params(), params_before), f"{name}.{method} changed a hyper-parameter"
    learned = set(vars(est)) - attrs_before
    public = {a for a in learned if not a.startswith("_")}
    assert public, f"{name}.{method} stored no fitted attribute"
    bad = sorted(a for a in public if not a.endswith("_"))
    assert not bad, f"{name}.{method} stored fitted state without a trailing underscore: {bad}"
    # #25: the docstring has numpydoc Parameters and Attributes sections, and the latter lists every fitted name
    sections = _numpydoc_sections(cls.__doc__)
    assert {"Parameters", "Attributes"} <= set(sections), f"{name}: docstring sections {sorted(sections)}"
    listed = {n for entry in re.findall(r"^([\w, ]+?) :", sections["Attributes"], flags=re.M)  # "a_, b_ : type"
              for n in re.split(r",\s*", entry)}
    undocumented = sorted(public - listed)
    assert not undocumented, f"{name}: fitted attributes missing from its Attributes section: {undocumented}"
    # a clone of a fitted estimator is unfitted, with the same parameters
    twin = clone(est)
    assert not (set(vars(twin)) - attrs_before) and _same(twin.get_params(), est.get_params())
