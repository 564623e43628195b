"""Neuroformer (Antoniades et al. 2023): tokenizer, splits, model, generation, training, circuit recovery."""
import numpy as np
import pytest

from neurodata.errors import InvalidInputError, NWBContentError
from neurodata.io import SpikeTrains
from neurodata.neuroformer import SpikeTokenizer, time_block_split


# ----------------------------------------------------------------------------------------------- tokenizer
def test_vocabularies_are_the_papers():
    tok = SpikeTokenizer(386)
    assert tok.dt_vocab_size == 19 and tok.n_dt == 16
    assert tok.id_vocab_size == 389
    assert (tok.id_sos, tok.id_eos, tok.id_pad) == (386, 387, 388)
    assert (tok.dt_sos, tok.dt_eos, tok.dt_pad) == (16, 17, 18)


def test_tokens_of_a_hand_made_recording():
    # unit 0 at 0.152 and 0.18, unit 1 at 0.152 (tie → unit order) and 0.01; unit 2 silent
    spikes = SpikeTrains([np.array([0.152, 0.18]), np.array([0.01, 0.152]), np.array([])], start=0.0, end=0.3)
    tok = SpikeTokenizer(3)
    t = tok.tokenize(spikes)
    np.testing.assert_allclose(t.window_start, [0.15, 0.2, 0.25])
    # first window [0.15, 0.2): 0.152 (u0, u1) → step 0, 0.18 → step 3
    np.testing.assert_array_equal(t.id[0], [3, 0, 1, 0, 4])
    np.testing.assert_array_equal(t.dt[0], [16, 0, 0, 3, 17])
    np.testing.assert_array_equal(t.id[1], [3, 4, 5, 5, 5])
    # its past [0, 0.15): unit 1 at 0.01 → step 1
    np.testing.assert_array_equal(t.past_id[0], [3, 1, 5, 5])
    np.testing.assert_array_equal(t.past_dt[0], [16, 1, 18, 18])
    # second window's past [0.05, 0.2) holds the three spikes at 0.152, 0.152, 0.18 → steps 10, 10, 13
    np.testing.assert_array_equal(t.past_id[1], [3, 0, 1, 0])
    np.testing.assert_array_equal(t.past_dt[1], [16, 10, 10, 13])
    np.testing.assert_array_equal(t.n_current, [3, 0, 0])


def _poisson(n_units=5, rate=20.0, duration=30.0, seed=0):
    rng = np.random.default_rng(seed)
    return SpikeTrains([np.sort(rng.uniform(0, duration, rng.poisson(rate * duration))) for _ in range(n_units)],
                       start=0.0, end=duration)


def test_round_trip_is_exact_to_the_dt_resolution():
    spikes = _poisson()
    tok = SpikeTokenizer(spikes.n_units)
    t = tok.tokenize(spikes)
    back = tok.decode(t.id, t.dt, t.window_start)
    covered = (t.window_start[0], t.window_start[-1] + tok.window)
    for orig, rec in zip(spikes.times, back):
        orig = orig[(orig >= covered[0]) & (orig < covered[1])]
        assert len(orig) == len(rec)  # no spike lost
        assert np.max(np.abs(np.sort(orig) - rec)) <= tok.dt / 2 + 1e-12
    assert t.n_current.sum() == sum(len(x) for x in back)
    # every token is inside its window's range
    cur = t.dt[:, 1:][t.id[:, 1:] < tok.n_units]
    past = t.past_dt[t.past_id < tok.n_units]
    assert cur.max() <= 5 and past.max() <= 15 and cur.min() >= 0


@pytest.mark.parametrize("name", ["spikes_A8604-211122.nwb", "spikes_behavior_A2929-200711.nwb"])
def test_tokens_of_the_shared_recordings_are_well_formed(testdata, name):
    from neurodata.io import read_spikes

    spikes = read_spikes(testdata / "nwb" / name)
    tok = SpikeTokenizer(spikes.n_units)
    t = tok.tokenize(spikes)
    starts = t.window_start
    times = np.concatenate(spikes.times)
    inside = np.count_nonzero((times >= starts[0]) & (times < starts[-1] + tok.window))
    assert t.n_current.sum() == inside
    assert np.all((t.id[:, 1:-1] < tok.n_units) | (t.id[:, 1:-1] >= tok.id_eos))
    assert np.all(t.dt[t.id < tok.n_units] <= 5) and np.all(t.past_dt[t.past_id < tok.n_units] <= 15)


def test_bad_inputs_raise_the_suites_errors():
    with pytest.raises(InvalidInputError, match="overflows the dt vocabulary"):
        SpikeTokenizer(3, past=0.3)
    with pytest.raises(InvalidInputError, match="shorter than one sample"):
        SpikeTokenizer(1).tokenize(SpikeTrains([np.array([0.01])], start=0.0, end=0.1))
    with pytest.raises(NWBContentError, match="no spikes"):
        SpikeTokenizer(2).tokenize(SpikeTrains([np.array([]), np.array([])], start=0.0, end=1.0))
    with pytest.raises(InvalidInputError, match="more than its block"):
        SpikeTokenizer(5).tokenize(_poisson(), block=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_time_block_split_never_overlaps(seed):
    tok = SpikeTokenizer(5)
    starts = tok.window_starts(0.0, 100.0)
    train, test = time_block_split(starts, window=tok.window, past=tok.past, test_fraction=0.3, seed=seed)
    assert len(np.intersect1d(train, test)) == 0 and len(test) > 0 and len(train) > len(starts) // 2
    lo_tr, hi_tr = starts[train] - tok.past, starts[train] + tok.window
    lo_te, hi_te = starts[test] - tok.past, starts[test] + tok.window
    # no train span intersects any test span
    overlaps = (lo_tr[:, None] < hi_te[None, :]) & (lo_te[None, :] < hi_tr[:, None])
    assert not overlaps.any()
    # only the windows next to test blocks are dropped
    assert len(starts) - len(train) - len(test) <= 2 * 3 * 4
