"""The torch room (neurodata.deep): light import, device/thread/seed helper, CLI options, training loop."""
import argparse
import subprocess
import sys

import numpy as np
import pytest

from neurodata.deep import add_torch_arguments
from neurodata.errors import BackendUnavailableError, DataFileError, InvalidInputError


def test_importing_neurodata_and_deep_loads_no_torch():
    code = ("import sys, neurodata, neurodata.deep, neurodata.alignment; "
            "from neurodata.deep import TrainingLoop, torch_runtime, add_torch_arguments; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]


def test_missing_torch_names_the_install(monkeypatch):
    from neurodata.deep import import_torch

    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(BackendUnavailableError, match=r"record_activations needs PyTorch.*"
                                                      r"pip install 'neurosuite\[deep\]'"):
        import_torch("record_activations")


# ---------------------------------------------------------------- device, threads, seeds
try:
    import torch
except ImportError:  # the tests above still run without the deep extra
    torch = None

from neurodata.deep import (TrainingLoop, import_torch, load_state, resolve_device, save_state,  # noqa: E402
                            torch_generator, torch_runtime)

needs_torch = pytest.mark.skipif(torch is None, reason="needs the deep extra (torch)")


@needs_torch
def test_import_torch_returns_the_module():
    assert import_torch() is torch


@needs_torch
def test_device_validation_messages():
    with pytest.raises(InvalidInputError, match=r"Allowed values are 'cpu', 'cuda', 'auto', but got 'gpu' "
                                                r"instead\."):
        resolve_device("gpu")
    with pytest.raises(InvalidInputError, match="Did you mean 'cuda'"):
        resolve_device("cdua")
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(BackendUnavailableError, match="no CUDA GPU"):
            resolve_device("cuda")


def _flushed():
    return (torch.tensor([1e-30], dtype=torch.float32) * 1e-10).item() == 0.0


@needs_torch
def test_runtime_restores_threads_and_denormals_even_on_error():
    threads, flushed = torch.get_num_threads(), _flushed()
    target = 1 if threads != 1 else 2
    with torch_runtime("cpu", target) as device:
        assert device == "cpu" and torch.get_num_threads() == target
        if torch.set_flush_denormal(True):  # only where the CPU can flush at all
            assert _flushed()
    assert torch.get_num_threads() == threads and _flushed() == flushed
    with pytest.raises(ZeroDivisionError):
        with torch_runtime("cpu", target):
            1 / 0
    assert torch.get_num_threads() == threads and _flushed() == flushed
    with torch_runtime("cpu", None, flush_denormal=False):  # None leaves threads alone
        assert torch.get_num_threads() == threads and _flushed() == flushed
    for bad in (0, 1.5, "2"):
        with pytest.raises(InvalidInputError, match="n_threads"):
            with torch_runtime("cpu", bad):
                pass
    assert torch.get_num_threads() == threads


@needs_torch
def test_generator_from_int_or_numpy_generator():
    a = torch.rand(3, generator=torch_generator(7))
    assert torch.equal(a, torch.rand(3, generator=torch.Generator().manual_seed(7)))
    b = torch.rand(3, generator=torch_generator(np.random.default_rng(1)))
    expected = torch.Generator().manual_seed(int(np.random.default_rng(1).integers(2 ** 31)))
    assert torch.equal(b, torch.rand(3, generator=expected))
    with pytest.raises(InvalidInputError, match="seed must be"):
        torch_generator("0")
    with pytest.raises(InvalidInputError):
        torch_generator(-1)


def test_cli_options():
    parser = add_torch_arguments(argparse.ArgumentParser())
    args = parser.parse_args([])
    assert (args.torch_device, args.torch_threads) == ("auto", None)
    args = parser.parse_args(["--torch-device", "cpu", "--torch-threads", "3"])
    assert (args.torch_device, args.torch_threads) == ("cpu", 3)
    for bad in (["--torch-device", "gpu"], ["--torch-threads", "0"], ["--torch-threads", "x"]):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(bad)
        assert exc.value.code == 2


# ---------------------------------------------------------------- training loop
def _problem():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((24, 5)).astype(np.float32))
    y = x @ torch.arange(1.0, 6.0) + 0.1 * torch.from_numpy(rng.standard_normal(24).astype(np.float32))
    return x, y[:, None]


def _train(epochs, checkpoint=None, seed=0, **loop_params):
    """A tiny regression trained with every kind of state the checkpoint must carry: Adam moments, a
    scheduler, a numpy Generator (batch order) and a torch Generator (input noise)."""
    x, y = _problem()
    rng = np.random.default_rng(seed)
    noise = torch_generator(rng)
    with torch_runtime("cpu", 1) as device:
        model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
        with torch.no_grad():  # initial weights from the seed too, not from torch's global generator
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=noise))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)

        def train_epoch(epoch):
            losses = []
            order = rng.permutation(len(x))
            for first in range(0, len(x), 8):
                idx = torch.from_numpy(order[first:first + 8])
                xb = x[idx] + 0.01 * torch.randn(x[idx].shape, generator=noise)
                optimizer.zero_grad()
                loss = torch.nn.functional.mse_loss(model(xb), y[idx])
                loss.backward()
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
            return {"loss": float(np.mean(losses))}

        loop = TrainingLoop(epochs, checkpoint=checkpoint, fingerprint={"problem": "tiny"}, **loop_params)
        loop.run(model, optimizer, train_epoch, scheduler=scheduler, rng=rng, generators=[noise], device=device)
    return loop, model


def _same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _losses(loop):
    return [record["loss"] for record in loop.history_]


@needs_torch
def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    plain, plain_model = _train(6)
    checked, checked_model = _train(6, checkpoint=tmp_path / "full.pt")
    _same_state(plain_model.state_dict(), checked_model.state_dict())  # checkpointing changes nothing

    ckpt = tmp_path / "ckpt.pt"
    first, _ = _train(3, checkpoint=ckpt)
    assert first.n_epochs_done_ == 3 and first.resumed_from_ is None and ckpt.exists()
    resumed, resumed_model = _train(6, checkpoint=ckpt)
    assert resumed.resumed_from_ == 3 and resumed.n_epochs_done_ == 6
    _same_state(plain_model.state_dict(), resumed_model.state_dict())
    _same_state(plain.best_state_, resumed.best_state_)
    assert _losses(resumed) == _losses(plain) and resumed.best_epoch_ == plain.best_epoch_
    assert [r["epoch"] for r in resumed.history_] == list(range(1, 7))
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic writer left no temporary file behind

    again, again_model = _train(6, checkpoint=ckpt)  # nothing left to do: the same final state
    assert again.resumed_from_ == 6
    _same_state(plain_model.state_dict(), again_model.state_dict())


@needs_torch
def test_checkpoint_of_another_run_is_refused(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    _train(2, checkpoint=ckpt)
    x, _ = _problem()
    model = torch.nn.Linear(5, 1)
    loop = TrainingLoop(3, checkpoint=ckpt, fingerprint={"problem": "other"})
    with pytest.raises(InvalidInputError, match="another configuration"):
        loop.run(model, torch.optim.SGD(model.parameters(), lr=0.1), lambda epoch: {"loss": 1.0})
    with pytest.raises(InvalidInputError, match="already holds 2 epochs"):
        _train(1, checkpoint=ckpt)
    foreign = tmp_path / "foreign.pt"
    save_state(foreign, {"format": "something else"})
    with pytest.raises(DataFileError, match="not a training checkpoint"):
        TrainingLoop(1, checkpoint=foreign).run(model, torch.optim.SGD(model.parameters(), lr=0.1),
                                                lambda epoch: {"loss": 1.0})
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    with pytest.raises(DataFileError, match="Cannot read training checkpoint"):
        load_state(broken, what="training checkpoint")
    with pytest.raises(DataFileError, match="No such"):
        load_state(tmp_path / "missing.pt")


@needs_torch
def test_best_state_is_a_deep_copy():
    loop, model = _train(6)
    losses = _losses(loop)
    assert loop.best_epoch_ == int(np.argmin(losses)) + 1 and loop.best_score_ == min(losses)
    kept = {k: v.clone() for k, v in loop.best_state_.items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    _same_state(loop.best_state_, kept)
    assert not torch.equal(model.state_dict()["0.weight"], loop.best_state_["0.weight"])


def _scripted(losses):
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def train_epoch(epoch):
        with torch.no_grad():
            model.bias.fill_(float(epoch))  # so each epoch's state is recognisable
        return {"loss": losses[epoch]}
    return model, optimizer, train_epoch


@needs_torch
def test_early_stopping_with_patience_and_restore_best(tmp_path):
    model, optimizer, train_epoch = _scripted([3.0, 2.0, 2.5, 2.05, 2.6, 1.0])
    loop = TrainingLoop(6, patience=2, restore_best=True, checkpoint=tmp_path / "c.pt")
    loop.run(model, optimizer, train_epoch)
    assert loop.stopped_early_ and loop.n_epochs_done_ == 4 and loop.best_epoch_ == 2
    assert model.bias.item() == 1.0  # the best (second) epoch's state, restored
    # a rerun from the checkpoint of a stopped run stays stopped
    model, optimizer, train_epoch = _scripted([3.0, 2.0, 2.5, 2.05, 2.6, 1.0])
    again = TrainingLoop(6, patience=2, checkpoint=tmp_path / "c.pt").run(model, optimizer, train_epoch)
    assert again.stopped_early_ and again.n_epochs_done_ == 4
    # min_delta: 2.05 is no improvement on 2.0, 1.0 is; without patience every epoch runs
    model, optimizer, train_epoch = _scripted([3.0, 2.0, 2.5, 1.95, 2.6, 1.0])
    loop = TrainingLoop(6, min_delta=0.1).run(model, optimizer, train_epoch)
    assert not loop.stopped_early_ and loop.n_epochs_done_ == 6 and loop.best_epoch_ == 6
    model, optimizer, train_epoch = _scripted([0.1, 0.5, 0.4])
    loop = TrainingLoop(3, monitor="loss", mode="max").run(model, optimizer, train_epoch)
    assert loop.best_epoch_ == 2


@needs_torch
def test_divergence_and_bad_parameters_raise_suite_errors():
    model, optimizer, train_epoch = _scripted([1.0, float("nan")])
    with pytest.raises(InvalidInputError, match="diverged at epoch 1"):
        TrainingLoop(2).run(model, optimizer, train_epoch)
    with pytest.raises(InvalidInputError, match="monitored metric 'accuracy'"):
        TrainingLoop(2, monitor="accuracy").run(model, optimizer, train_epoch)
    with pytest.raises(InvalidInputError, match="'patience' parameter of TrainingLoop"):
        TrainingLoop(2, patience=0).run(model, optimizer, train_epoch)
    with pytest.raises(InvalidInputError, match="Allowed values are 'min', 'max'"):
        TrainingLoop(2, mode="minimum").run(model, optimizer, train_epoch)
