"""One MEG reader (#26 item 3): RSA, alignment and the spine see the same channels in the same order."""
import numpy as np
import pytest

from neurodata import io, rsa

MEG = "meg/sample_evoked-ave.fif.gz"
FILE_ORDER = ["Left Auditory", "Right Auditory", "Left visual", "Right visual"]


def test_rsa_and_spine_agree_on_channels_and_condition_order(testdata):
    tr = io.read_mne(testdata / MEG)
    resp = rsa.responses_from_mne(testdata / MEG, scale="none")
    assert tr.epochs == resp.conditions == FILE_ORDER  # the file's order, not alphabetical
    assert tr.channels == resp.channels and len(resp.channels) == 306
    assert set(tr.channel_types) == {"mag", "grad"}
    np.testing.assert_array_equal(resp.means, np.asarray(tr.data).transpose(2, 1, 0))
    np.testing.assert_array_equal(resp.times, tr.times)
    assert resp.unit == "T/m, T"
    ordered = rsa.responses_from_mne(testdata / MEG, conditions=["Right visual", "Left Auditory"])
    assert ordered.conditions == ["Right visual", "Left Auditory"]
    eeg = rsa.responses_from_mne(testdata / MEG, picks="eeg", scale="none")
    assert eeg.means.shape == (4, 60, 421) and eeg.unit == "V"


def test_alignment_cli_reads_fif_like_rsa(testdata, tmp_path):
    from neurodata.cli import build_parser, run
    from neurodata.io import read_results

    # two "layers" that are the responses themselves at an early and a late time: their peaks differ
    means = rsa.responses_from_mne(testdata / MEG).means
    np.savez(tmp_path / "layers.npz", early=means[:, :, 150], late=means[:, :, 300])
    out = tmp_path / "temporal.nwb"
    argv = ["align", "temporal", "--features", str(tmp_path / "layers.npz"), "--meg", str(testdata / MEG),
            "--n-folds", "2", "--n-inner-folds", "2", "--out", str(out), "--quiet"]
    assert run(build_parser(modules=["neurodata.alignment.cli"]), argv) == 0
    res = read_results(out)
    assert res.parameters["conditions"] == FILE_ORDER and res.parameters["picks"] == "meg"
    courses = res.traces["time_courses"]
    assert courses.data.shape == (421, 2)  # time first, one column per layer
    np.testing.assert_allclose(courses.times, io.read_mne(testdata / MEG).times, rtol=0, atol=1e-12)
    assert res.arrays["peak_latency"].shape == (2,)


def test_epochs_keep_the_event_order_and_trials():
    import mne

    rng = np.random.default_rng(0)
    info = mne.create_info(["MEG 0111", "MEG 0112", "EEG 001"], 100.0, ["mag", "grad", "eeg"])
    events = np.column_stack([np.arange(12) * 100, np.zeros(12, int), np.tile([3, 1, 2], 4)])
    epochs = mne.EpochsArray(rng.standard_normal((12, 3, 20)) * 1e-12, info, events=events,
                             event_id={"b": 3, "a": 1, "c": 2}, tmin=-0.05, verbose="error")
    tr = io.read_mne(epochs)
    assert tr.data.shape == (20, 2, 12) and tr.channel_units == ["T", "T/m"]
    assert tr.rate == 100.0 and tr.epochs[:3] == ["b", "a", "c"]
    resp = rsa.responses_from_mne(epochs)
    assert resp.conditions == ["b", "a", "c"]  # the file's event_id order
    assert resp.trials.shape == (12, 2, 20)
    assert io.read_mne(epochs, picks="all").n_channels == 3
    assert io.read_mne(epochs, picks=["MEG 0112"]).channel_units == ["T/m"]
    assert io.read_mne(epochs, picks="MEG 0111,EEG 001").channel_units == ["T", "V"]
