"""Unit tests of the reservoir package: paradigm, Izhikevich-2003 heterogeneity, connectivity, devices."""
import numpy as np
import pytest

from neurodata.errors import BackendUnavailableError, InvalidInputError
from neurosim.reservoir import Paradigm, ReservoirParams, Switch
from neurosim.reservoir.network import izhikevich_2003_parameters, reservoir_connectivity


def test_paradigm_switches_and_frozen_trials():
    par = Paradigm([100, 200], [1.0, 0.5], 40, switches=[Switch(20, 0, latency_ms=150.0),
                                                         Switch(20, 1, probability=0.0)],
                   frozen_trials=range(10, 20), seed=3)
    tr = par.trials
    assert (tr.identity.value_counts() == 20).all()                      # balanced blocks
    assert set(tr[(tr.index < 20) & (tr.identity == 0)].latency_ms) == {100.0}
    assert set(tr[(tr.index >= 20) & (tr.identity == 0)].latency_ms) == {150.0}
    assert not tr[(tr.index >= 20) & (tr.identity == 1)].occurred.any()  # p switched to 0
    assert tr[tr.identity == 0].occurred.all()                           # p = 1
    assert list(tr.learning) == [not 10 <= t < 20 for t in range(40)]
    ctrl = par.control_arrays(10.0)
    assert ctrl["target"].shape == (int(par.duration_ms) + 1, 2)
    assert not ctrl["gate"][int(tr.cue_time[10] * 1e3) + 50].any()      # frozen: no attention gate
    k0 = tr.identity[0]                                                  # learning trial, outcome delivered
    assert ctrl["gate"][int(tr.cue_time[0] * 1e3) + 50, k0] == 0                 # cue response: not yet attended
    attended = ctrl["gate"][int(tr.cue_time[0] * 1e3):int(tr.stop_time[0] * 1e3), k0]
    event = ctrl["target"][int(tr.cue_time[0] * 1e3):int(tr.stop_time[0] * 1e3), k0]
    # the outcome event weighted by the gate sums to 1 per attended trial: one instar step per delivered outcome
    assert (attended * event).sum() == pytest.approx(1.0 if tr.occurred[0] else 0.0)
    assert ctrl["gate"][int(tr.cue_time[0] * 1e3) + 50, 1 - k0] == 0
    assert ctrl["early"][int(tr.cue_time[0] * 1e3) + 50] == 1 and ctrl["early"][int(tr.cue_time[0] * 1e3) + 150] == 0
    assert ctrl["consolidate"][int(tr.cue_time[0] * 1e3) + 550] == 1     # ITI after a learning trial


@pytest.mark.parametrize("kwargs", [dict(latencies_ms=[100], probabilities=[1.5]),
                                    dict(latencies_ms=[600], probabilities=[0.5]),
                                    dict(latencies_ms=[100, 200], probabilities=[0.5])])
def test_paradigm_rejects_bad_contingencies(kwargs):
    with pytest.raises(InvalidInputError):
        Paradigm(n_trials=4, **kwargs)


def test_izhikevich_2003_heterogeneity():
    n_exc, a, b, c, d = izhikevich_2003_parameters(1000, 0.8, np.random.default_rng(0))
    assert n_exc == 800
    assert np.all(a[:800] == 0.02) and np.all(b[:800] == 0.2)
    assert np.all((c[:800] >= -65) & (c[:800] <= -50)) and np.all((d[:800] >= 2) & (d[:800] <= 8))
    r = (c[:800] + 65) / 15
    np.testing.assert_allclose(d[:800], 8 - 6 * r)                      # same r^2 in c and d
    assert np.all((a[800:] >= 0.02) & (a[800:] <= 0.1)) and np.all((b[800:] >= 0.2) & (b[800:] <= 0.25))
    np.testing.assert_allclose(b[800:], 0.25 - 0.05 * (a[800:] - 0.02) / 0.08)
    assert np.all(c[800:] == -65) and np.all(d[800:] == 2)


def test_connectivity_in_degree_signs_and_no_autapses():
    p = ReservoirParams(n_neurons=500)
    pre, post, w = reservoir_connectivity(p, np.random.default_rng(1))
    assert np.all(np.bincount(post, minlength=500) == 50)               # p * N inputs each
    assert not np.any(pre == post)
    assert np.all(w[pre < 400] >= 0) and np.all(w[pre >= 400] <= 0)
    assert w[pre < 400].max() <= 0.5 * 1000 / 50 and w[pre >= 400].min() >= -1000 / 50


@pytest.mark.parametrize("device", ["genn", "cuda_standalone"])
def test_missing_device_raises_backend_unavailable(device):
    from neurosim.reservoir.network import simulate
    par = Paradigm([100], [1.0], 1, trial_ms=200, iti_ms=100)
    with pytest.raises(BackendUnavailableError):
        simulate(par, device=device)


def test_numpy_spnet_baseline_matches_brian2_runtime():
    """The benchmark baseline is the same network: identical spikes without noise (runtime, numpy target)."""
    from neurosim.reservoir.baseline_numpy import simulate_numpy
    from neurosim.reservoir.network import simulate
    par = Paradigm([150], [1.0], 1, seed=1, trial_ms=200, iti_ms=100)
    si, st, _ = simulate_numpy(par.duration_ms, paradigm=par, noise=False, seed=0,
                               reservoir=ReservoirParams(n_neurons=300))
    res = simulate(par, noise=False, seed=0, target="numpy", record_weights=False, record_readout=False,
                   reservoir=ReservoirParams(n_neurons=300))
    assert si.size > 50
    a = sorted(zip(np.round(st * 2e3).astype(int), si))
    b = sorted(zip(np.round(res.spike_t * 2e3).astype(int), res.spike_i))
    assert a == b


def test_short_run_writes_nwb_that_reads_back(tmp_path):
    from neurodata.io import read_intervals, read_spikes
    from neurosim.reservoir.experiment import standard_paradigm
    from neurosim.reservoir.network import simulate
    from neurosim.reservoir.nwb import result_to_nwb
    par = standard_paradigm(n_train=4, n_test=1, n_after=1, seed=0)
    res = simulate(par, seed=0, target="numpy", reservoir=ReservoirParams(n_neurons=100))
    assert res.w_when.shape == (par.n_trials, 4, 3, 80)
    assert res.w_what.shape == (par.n_trials, 4, 80)
    path = result_to_nwb(res, tmp_path / "run.nwb")
    spikes = read_spikes(path)
    assert len(spikes.times) == 100 + 4 * 100 + 4 * 40                     # reservoir, cue, stimulus units
    trials = read_intervals(path)["trials"]
    assert len(trials.start) == par.n_trials
