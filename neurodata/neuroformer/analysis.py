"""One path per Neuroformer command: ``f(nwb_path, out_path, params) -> metrics`` (see neurodata.batch).

``pretrain`` is the batch analysis (``neurodata batch neuroformer``): it splits the recording's windows by
contiguous time blocks, pretrains on the training blocks and writes one results NWB (training history,
held-out scores, the attention connectivity, the split). ``generate`` and ``attention`` run a saved model on a
recording. The packages with torch load inside the calls.
"""
from ..errors import InvalidInputError

__all__ = ["attention", "generate", "pretrain"]

ANALYSIS = "neuroformer"


def _merge(name, defaults, params):
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise InvalidInputError(f"neuroformer {name} has no parameter {unknown}. Allowed values are "
                                f"{sorted(defaults)}.")
    return {**defaults, **params}


def _check_out(out_path, overwrite, source):
    from ..utils import check_output_path

    check_output_path(out_path, overwrite=overwrite, inputs=[str(source)], suffix=".nwb")


def _pretrain_parameters():
    from .estimator import Neuroformer

    est = {k: v for k, v in Neuroformer().get_params().items() if k not in ("verbose", "checkpoint")}
    return {**est, "test_fraction": 0.2, "n_blocks": 10}


def _split(spikes, p):
    from .tokenizer import SpikeTokenizer, time_block_split

    tok = SpikeTokenizer(spikes.n_units, window=p["window"], past=p["past"], dt=p["dt"], max_dt=p["max_dt"])
    starts = tok.window_starts(spikes.start, spikes.end)
    train, test = time_block_split(starts, window=tok.window, past=tok.past, test_fraction=p["test_fraction"],
                                   n_blocks=p["n_blocks"], seed=p["seed"])
    return starts[train], starts[test]


def pretrain(nwb_path, out_path, params, *, figure=None, overwrite=False, verbose=False, checkpoint=None,
             model_out=None):
    """Pretrain a Neuroformer on the Units table of ``nwb_path`` (training time blocks) and write the results:
    ``history`` (per-epoch losses), ``scores`` (held-out log-likelihood per spike and per window),
    ``attention`` (n_units × n_units connectivity read out of the current → past attention on the held-out
    blocks) and the window starts of both splits. ``model_out``: also save the model (torch file).
    Metrics: units, windows of each split, final training loss, held-out log-likelihood per spike."""
    import pandas as pd

    from ..io import read_spikes, write_results
    from .estimator import Neuroformer

    p = _merge("pretrain", _pretrain_parameters(), params)
    _check_out(out_path, overwrite, nwb_path)
    if model_out is not None:
        from ..utils import check_output_path
        check_output_path(model_out, overwrite=overwrite, inputs=[str(nwb_path)])
    spikes = read_spikes(nwb_path)
    train, test = _split(spikes, p)
    est = {k: v for k, v in p.items() if k not in ("test_fraction", "n_blocks")}
    model = Neuroformer(**est, checkpoint=checkpoint, verbose=verbose).fit(spikes, starts=train)
    scores = model.score(spikes, starts=test)
    connectivity = model.attention(spikes, starts=test)
    if model_out is not None:
        model.save(model_out, overwrite=overwrite)
    write_results(out_path, analysis=ANALYSIS, sources=[nwb_path], parameters=p,
                  arrays={"attention": connectivity, "train_window_start": train, "test_window_start": test},
                  tables={"history": pd.DataFrame(model.history_), "scores": pd.DataFrame([scores])},
                  description="Neuroformer pretraining (Antoniades et al. 2023): held-out scores and the "
                              "attention connectivity A[i, j] (past neuron i, predicted neuron j)",
                  overwrite=overwrite)
    if figure:
        from .plotting import plot_attention
        plot_attention(connectivity, figure, overwrite=overwrite)
    return {"n_units": spikes.n_units, "n_train_windows": len(train), "n_test_windows": len(test),
            "train_loss": float(model.history_[-1]["loss"]) if model.history_ else float("nan"),
            "test_log_likelihood_per_spike": float(scores["log_likelihood_per_spike"])}


pretrain.parameters = _pretrain_parameters


def _load(model_path, device, n_threads, verbose=False):
    from .estimator import Neuroformer

    if model_path is None:
        raise InvalidInputError("neuroformer: pass the model file written by 'neuroformer pretrain --model-out' "
                                "(params={'model': PATH}).")
    over = {"verbose": verbose}
    if device is not None:
        over["device"] = device
    if n_threads is not None:
        over["n_threads"] = n_threads
    return Neuroformer.load(model_path, **over)


def _inference_defaults():
    return {"model": None, "start": None, "end": None, "device": None, "n_threads": None}


def _windows(model, spikes, p):
    starts = model.tokenizer_.window_starts(spikes.start, spikes.end)
    lo = -float("inf") if p["start"] is None else p["start"]
    hi = float("inf") if p["end"] is None else p["end"]
    keep = (starts >= lo) & (starts + model.tokenizer_.window <= hi)
    if not keep.any():
        raise InvalidInputError(f"neuroformer: no full window between start={p['start']} and end={p['end']}.")
    return starts[keep]


def _generate_parameters():
    return {**_inference_defaults(), "temperature": 1.0, "top_k": None, "top_p": None, "seed": 0}


def generate(nwb_path, out_path, params, *, figure=None, overwrite=False, verbose=False):
    """Sample spike trains window by window, each conditioned on the recording's real past window, with a saved
    model; written as the Units table of a results NWB. Metrics: generated and real spikes in the windows."""
    from ..io import read_spikes, write_results

    p = _merge("generate", _generate_parameters(), params)
    _check_out(out_path, overwrite, nwb_path)
    model = _load(p["model"], p["device"], p["n_threads"], verbose)
    spikes = read_spikes(nwb_path)
    starts = _windows(model, spikes, p)
    gen = model.generate(spikes, starts=starts, temperature=p["temperature"], top_k=p["top_k"], top_p=p["top_p"],
                         seed=p["seed"])
    write_results(out_path, analysis=ANALYSIS, sources=[nwb_path, p["model"]],
                  parameters={**p, "model": str(p["model"])}, spikes=gen, arrays={"window_start": starts},
                  description="spike trains generated by a Neuroformer, each window conditioned on the real past",
                  overwrite=overwrite)
    real = sum(int(((t >= gen.start) & (t < gen.end)).sum()) for t in spikes.times)
    if figure:
        from .plotting import plot_rasters
        plot_rasters(spikes, gen, figure, overwrite=overwrite)
    return {"n_generated_spikes": gen.n_spikes, "n_real_spikes": real, "n_windows": len(starts)}


generate.parameters = _generate_parameters


def attention(nwb_path, out_path, params, *, figure=None, overwrite=False, verbose=False):
    """Connectivity read out of a saved model's current → past attention on ``nwb_path``'s windows, written as
    an (n_units × n_units) array A[i, j] (past neuron i, predicted neuron j). Metrics: units, windows."""
    from ..io import read_spikes, write_results

    p = _merge("attention", _inference_defaults(), params)
    _check_out(out_path, overwrite, nwb_path)
    model = _load(p["model"], p["device"], p["n_threads"], verbose)
    spikes = read_spikes(nwb_path)
    starts = _windows(model, spikes, p)
    a = model.attention(spikes, starts=starts)
    write_results(out_path, analysis=ANALYSIS, sources=[nwb_path, p["model"]],
                  parameters={**p, "model": str(p["model"])}, arrays={"attention": a, "window_start": starts},
                  description="Neuroformer attention connectivity A[i, j] (past neuron i, predicted neuron j)",
                  overwrite=overwrite)
    if figure:
        from .plotting import plot_attention
        plot_attention(a, figure, overwrite=overwrite)
    return {"n_units": spikes.n_units, "n_windows": len(starts)}


attention.parameters = _inference_defaults
