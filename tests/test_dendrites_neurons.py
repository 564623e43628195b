"""Brian2 active-dendrite neurons: measured false positives / negatives and union agree with the theory.

Ground truth: the exact theory given each segment's synapses. Threshold stated: |z| < 3.5 where z is
(measured - theory) / binomial standard error, for >= 3 settings (two FP settings, one union, one FN).
Runs on Brian2's runtime device with the numpy target (no compiler), test-sized (< ~40 s in total).
"""
import numpy as np
import pytest

from neurodata.errors import InvalidInputError

pytest.importorskip("brian2")
pytestmark = pytest.mark.filterwarnings(
    "ignore::pyparsing.warnings.PyparsingDeprecationWarning")  # raised inside brian2 (pyparsing >= 3.3)

from neurosim.dendrites.experiment import rates_table, run_experiment, write_run  # noqa: E402
from neurosim.dendrites.neurons import ActiveDendriteNeurons, NeuronParams, noisy_patterns  # noqa: E402

Z_MAX = 3.5


@pytest.mark.parametrize("kw", [
    dict(n_inputs=1000, n_active=40, n_neurons=40, n_segments=10, n_synapses=20, theta=4, n_random=80),
    dict(n_inputs=500, n_active=25, n_neurons=40, n_segments=10, n_synapses=16, theta=3, n_random=50),
], ids=["n1000-a40-s20-th4", "n500-a25-s16-th3"])
def test_false_positive_rates_match_theory(kw):
    model, run, summary = run_experiment(**kw, seed=1)
    seg, neu = summary["segment_false_positive"], summary["neuron_false_positive"]
    assert seg["hits"] > 100  # measurable in a test-sized run
    assert abs(seg["z"]) < Z_MAX, rates_table(summary)
    assert abs(neu["z"]) < Z_MAX, rates_table(summary)
    # predicted cells fire first: "early spike" is exactly "some segment emitted a plateau"
    assert summary["latency_code"]["measured"] == 1.0


def test_false_negative_under_noise_matches_theory():
    _, _, summary = run_experiment(n_inputs=1000, n_active=40, n_neurons=40, n_segments=5, n_synapses=20, theta=10,
                                   noise=20, n_random=0, n_learned=40, shared_patterns=True, seed=2)
    fn = summary["segment_false_negative"]
    assert fn["theory"] == pytest.approx(0.376186, rel=1e-5)
    assert abs(fn["z"]) < Z_MAX, rates_table(summary)


def test_union_property_and_recognition(tmp_path):
    model, run, summary = run_experiment(n_inputs=1000, n_active=20, n_neurons=40, n_segments=10, n_synapses=20,
                                         theta=5, patterns_per_segment=4, n_random=60, n_learned=20, seed=3)
    assert abs(summary["union_false_positive_exact"]["z"]) < Z_MAX, rates_table(summary)
    assert abs(summary["union_false_positive_expected_size"]["z"]) < Z_MAX
    # every stored pattern of a union segment is recognised, and its neuron predicted
    assert summary["segment_false_negative"]["measured"] == 0.0
    assert summary["neuron_recognition"]["measured"] == 1.0

    # NWB through the spine: spikes of three populations, soma potential, windows, synapses, rates
    from neurodata.io import read_intervals, read_spikes, read_traces  # noqa: F401
    path = tmp_path / "run.nwb"
    write_run(path, model, run, summary)
    spikes = read_spikes(path)
    assert spikes.n_units == 1000 + 40 + 400
    pops = spikes.metadata["population"].value_counts().to_dict()
    assert pops == {"input": 1000, "nmda_plateaus": 400, "soma": 40}
    assert spikes.n_spikes == len(run.input_spikes[0]) + len(run.soma_spikes[0]) + len(run.segment_spikes[0])
    windows = read_intervals(path)["trials"]
    assert len(windows) == 80


def test_nwb_passes_inspector(tmp_path):
    nwbinspector = pytest.importorskip("nwbinspector")
    model, run, summary = run_experiment(n_inputs=200, n_active=10, n_neurons=4, n_segments=3, n_synapses=8,
                                         theta=3, n_random=5, n_learned=3, seed=4)
    path = tmp_path / "small.nwb"
    write_run(path, model, run, summary)
    critical = [m for m in nwbinspector.inspect_nwbfile(nwbfile_path=str(path))
                if m.importance.name == "CRITICAL"]
    assert not critical, critical


def test_bad_parameters_raise_suite_errors():
    with pytest.raises(InvalidInputError):
        ActiveDendriteNeurons(n_synapses=30, n_active=20).learn()
    with pytest.raises(InvalidInputError):
        ActiveDendriteNeurons(theta=25, n_synapses=20).learn()
    with pytest.raises(InvalidInputError):
        ActiveDendriteNeurons(target="cuda").learn()
    with pytest.raises(InvalidInputError):
        ActiveDendriteNeurons().present(np.zeros((2, 40), dtype=int))  # not learned
    with pytest.raises(InvalidInputError):
        ActiveDendriteNeurons(params=NeuronParams(period=10e-3)).learn()  # unpredicted cells fire too late
    model = ActiveDendriteNeurons(n_inputs=100, n_active=10, n_neurons=2, n_segments=2, n_synapses=5,
                                  theta=3, seed=0).learn()
    with pytest.raises(InvalidInputError):
        model.present(np.full((2, 10), 100))


def test_noisy_patterns_keep_size_and_replace_exactly_v():
    rng = np.random.default_rng(0)
    pats = np.sort(np.argsort(rng.random((50, 300)), axis=1)[:, :30], axis=1)
    noisy = noisy_patterns(pats, 300, 7, seed=1)
    assert noisy.shape == pats.shape
    for p, q in zip(pats, noisy):
        assert len(np.unique(q)) == 30 and len(np.intersect1d(p, q)) == 23
