"""Property-based fuzzing (Hypothesis) of the spine's readers and writers and of the estimators (#26 item 5).

Every case must end in a result or a suite error (``NeurosuiteError``), never a raw exception; a writer leaves
its target either absent or a complete, readable file, and never changes an existing file. Example counts are
sized so the file runs in about a minute on a 2-core machine; the cases run are counted and reported by the
last test (``-s`` shows the line; it is also written to the test's report as a user property).
"""
import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neurodata import io
from neurodata.errors import ConvergenceWarning, NeurosuiteError, NeurosuiteWarning

CASES = Counter()  # test name → cases run (Hypothesis examples), reported by test_zz_report_case_count
FOREIGN_WARNINGS = Counter()  # third-party warnings seen on valid but degenerate inputs (reported, not failed)

FAST = settings(max_examples=50, deadline=None, derandomize=True,  # derandomized: the same cases on every run
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _outcome(call):
    """Run ``call``: a result or a suite error is fine (returns the result or the error); any other exception
    fails the case.

    Warnings are not failures here: suite warnings are answers (a shape that may be legitimate, a short run
    that did not converge), and a third-party warning on a degenerate but valid input (k-means on a constant
    matrix) is counted in FOREIGN_WARNINGS and reported by the last test, for a closer look."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call()
        except NeurosuiteError as exc:
            out = exc
        except Exception as exc:  # noqa: BLE001 - the point of the suite
            pytest.fail(f"raw {type(exc).__name__}: {exc}")
    for w in caught:
        if not issubclass(w.category, NeurosuiteWarning):
            FOREIGN_WARNINGS[f"{w.category.__name__}: {str(w.message)[:60]}"] += 1
    return out


# ----------------------------------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    """A small simulation (units, acquisition series, ophys traces, intervals) and a results file."""
    root = tmp_path_factory.mktemp("fuzz_sources")
    rng = np.random.default_rng(0)
    spikes = io.SpikeTrains([np.sort(rng.uniform(0, 2.0, 15)) for _ in range(3)], start=0.0, end=2.0)
    trace = io.Traces(rng.normal(size=(40, 2)), rate=20.0, unit="m")
    calcium = io.Traces(rng.random((40, 3)), rate=20.0, unit="a.u.")
    trials = io.Intervals([0.0, 0.5, 1.0], [0.4, 0.9, 1.4], table=pd.DataFrame({"condition": ["a", "b", "a"]}))
    sim = io.write_simulation(root / "sim.nwb", spikes={"cells": spikes}, traces={"position": trace},
                              ophys={"calcium": calcium}, intervals={"trials": trials}, parameters={"seed": 0})
    res = io.write_results(root / "res.nwb", analysis="fuzz", sources=[sim], arrays={"x": rng.normal(size=(4, 3))},
                           tables={"t": pd.DataFrame({"a": [1, 2], "b": ["u", "v"]})}, parameters={"k": 1})
    return {"sim": sim.read_bytes(), "res": res.read_bytes()}


READERS = {"read_spikes": io.read_spikes, "read_traces": io.read_traces, "read_behavior": io.read_behavior,
           "read_intervals": io.read_intervals, "read_results": io.read_results}


def _corrupt(data, how, where, payload):
    cut = int(where * len(data))
    if how == "truncate":
        return data[:cut]
    if how == "overwrite":
        return data[:cut] + payload + data[cut + len(payload):]
    if how == "insert":
        return data[:cut] + payload + data[cut:]
    return payload  # "random": not an NWB file at all


@settings(FAST, max_examples=100)  # readers are cheap: more cases
@given(source=st.sampled_from(["sim", "res"]), how=st.sampled_from(["truncate", "overwrite", "insert", "random"]),
       where=st.floats(0.0, 1.0), payload=st.binary(min_size=1, max_size=256),
       reader=st.sampled_from(sorted(READERS)))
def test_readers_on_corrupted_files(small_files, tmp_path_factory, source, how, where, payload, reader):
    CASES["readers"] += 1
    path = tmp_path_factory.mktemp("corrupt") / "file.nwb"
    path.write_bytes(_corrupt(small_files[source], how, where, payload))
    _outcome(lambda: READERS[reader](path))


def test_readers_read_the_intact_files(small_files, tmp_path):
    """The sources of the corruptions are themselves readable (so the fuzz exercises real parsing)."""
    sim = tmp_path / "sim.nwb"
    sim.write_bytes(small_files["sim"])
    assert io.read_spikes(sim).n_units == 3 and io.read_traces(sim).n_channels == 3
    assert "position" in io.read_behavior(sim) and "trials" in io.read_intervals(sim)
    res = tmp_path / "res.nwb"
    res.write_bytes(small_files["res"])
    assert io.read_results(res).arrays["x"].shape == (4, 3)


# ----------------------------------------------------------------------------------------------- writers
_DTYPES = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint16, np.bool_,
                           np.complex128])
_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)


@st.composite
def arrays_with_nans(draw):
    dtype = np.dtype(draw(_DTYPES))
    arr = draw(hnp.arrays(dtype, draw(_SHAPES), elements=hnp.from_dtype(dtype, allow_nan=False,
                                                                          allow_infinity=False)
                          if dtype.kind != "f" else st.floats(-1e3, 1e3, width=dtype.itemsize * 8)))
    if dtype.kind == "f" and arr.size and draw(st.booleans()):
        arr.flat[draw(st.integers(0, arr.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return arr


@st.composite
def tables(draw):
    n = draw(st.integers(0, 4))
    columns = draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=3))
    kinds = {"a": st.floats(allow_nan=True, allow_infinity=False, width=32),
             "b": st.text(max_size=4), "c": st.integers(-5, 5)}
    return pd.DataFrame({c: draw(st.lists(kinds[c], min_size=n, max_size=n)) for c in columns})


@st.composite
def traces(draw):
    n_times, n_channels = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    data = draw(hnp.arrays(np.float64, (n_times, n_channels), elements=st.floats(-1e3, 1e3)))
    return io.Traces(data, rate=draw(st.floats(0.5, 1000.0)))


def _no_temporaries(folder):
    left = [p.name for p in Path(folder).iterdir() if ".tmp" in p.name]
    assert not left, f"temporary files left behind: {left}"


@FAST
@given(arrays=st.dictionaries(st.sampled_from(["x", "y", "z"]), arrays_with_nans(), max_size=2),
       tables=st.dictionaries(st.sampled_from(["t", "u"]), tables(), max_size=2),
       traces=st.dictionaries(st.sampled_from(["s"]), traces(), max_size=1),
       parameters=st.dictionaries(st.text(min_size=1, max_size=4), st.one_of(st.integers(), st.floats(), st.text(max_size=4)),
                                  max_size=3))
def test_write_results_gives_a_complete_file_or_nothing(tmp_path_factory, arrays, tables, traces, parameters):
    CASES["writers"] += 1
    folder = tmp_path_factory.mktemp("write")
    target = folder / "out.nwb"
    out = _outcome(lambda: io.write_results(target, analysis="fuzz", arrays=arrays, tables=tables,
                                            traces=traces, parameters=parameters))
    _no_temporaries(folder)
    if isinstance(out, NeurosuiteError):
        assert not target.exists(), f"a failed write left {target} behind ({out})"
        return
    back = io.read_results(target)  # complete and readable
    assert set(back.arrays) | set(back.tables) | set(back.traces) >= set(arrays) | set(tables) | set(traces) - \
        {k for k in arrays if np.asarray(arrays[k]).size == 0}
    for name, arr in arrays.items():
        if name in back.arrays:
            assert back.arrays[name].shape == np.shape(arr)


@FAST
@given(arrays=st.dictionaries(st.sampled_from(["x"]), arrays_with_nans(), max_size=1),
       overwrite_flag=st.just(False))
def test_write_results_never_changes_an_existing_file(small_files, tmp_path_factory, arrays, overwrite_flag):
    CASES["writers (existing target)"] += 1
    folder = tmp_path_factory.mktemp("existing")
    target = folder / "out.nwb"
    target.write_bytes(small_files["sim"])
    before = target.read_bytes()
    out = _outcome(lambda: io.write_results(target, analysis="fuzz", arrays=arrays, overwrite=overwrite_flag))
    assert isinstance(out, NeurosuiteError)
    assert target.read_bytes() == before
    _no_temporaries(folder)


# ----------------------------------------------------------------------------------------------- estimators
def _rows(x):
    """Rows of whatever the fuzzer drew (ragged lists included), for the second argument of two-input methods."""
    try:
        return max(len(x), 1)
    except TypeError:
        return 1


def _estimators():
    from neurodata.alignment import RidgeEncoder, as_activations, cka
    from neurodata.bicluster import BiclusterMCMC
    from neurodata.connectome.affinity import compute_affinity
    from neurodata.connectome.ntf import NTF
    from neurodata.connectome.sbm import WeightedSBM
    from neurodata.rsa import compute_rdm, crossnobis, time_resolved_rdms

    return {
        "BiclusterMCMC.fit": lambda x: BiclusterMCMC(n_iter=3, burn_in=1, thin=1, n_chains=1, n_states=3,
                                                     seed=0).fit(x),
        "NTF.fit": lambda x: NTF(rank=1, n_restarts=1, n_iter_max=5, seed=0).fit(x),
        "WeightedSBM.fit": lambda x: WeightedSBM(max_blocks=2, n_init=1, n_iter_max=5, seed=0).fit(x),
        "RidgeEncoder.fit": lambda x: RidgeEncoder(alphas=(1.0,), cv=2).fit(x, np.arange(_rows(x), dtype=float)),
        "compute_affinity": lambda x: compute_affinity(x, smooth=1.0, window=2.0),
        "compute_rdm": lambda x: compute_rdm(x),
        "time_resolved_rdms": lambda x: time_resolved_rdms(x),
        "crossnobis": lambda x: crossnobis(x, np.arange(_rows(x)) % 3),
        "as_activations": lambda x: as_activations(x),
        "cka": lambda x: cka(x, x),
    }


ESTIMATORS = _estimators()


@st.composite
def estimator_inputs(draw):
    kind = draw(st.sampled_from(["array", "array", "array", "list", "ragged", "object"]))
    if kind == "list":
        return draw(arrays_with_nans()).tolist()
    if kind == "ragged":
        return [list(range(draw(st.integers(0, 3)))) for _ in range(draw(st.integers(2, 4)))]
    if kind == "object":
        return draw(st.sampled_from([{"a": 1}, "x.nwb", ["a", "b"], None, 3.5, object()]))
    return draw(arrays_with_nans())


@settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(ESTIMATORS)), data=estimator_inputs())
def test_estimators_on_random_inputs(name, data):
    CASES["estimators"] += 1
    copy = None if not isinstance(data, np.ndarray) else data.copy()
    _outcome(lambda: ESTIMATORS[name](data))
    if copy is not None:  # a method never modifies its caller's array, even when it fails
        assert np.array_equal(copy, data, equal_nan=True)


def test_zz_report_case_count(capsys, record_property):
    """How many fuzz cases ran (the report asked for by #26 item 5); runs last in this file."""
    total = sum(CASES.values())
    record_property("fuzz_cases", total)
    record_property("fuzz_foreign_warnings", sum(FOREIGN_WARNINGS.values()))
    with capsys.disabled():
        print(f"\nfuzz cases run: {total} ({', '.join(f'{k} {v}' for k, v in sorted(CASES.items()))}); "
              f"0 raw exceptions; third-party warnings: {dict(FOREIGN_WARNINGS) or 'none'}")
    if CASES:  # when run alone (-k), the counter is empty: nothing to check
        assert all(v > 0 for v in CASES.values())
