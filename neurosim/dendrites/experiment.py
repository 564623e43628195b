"""Recognition experiments on the Brian2 neurons: measured error rates next to the exact theory, and NWB output.

One run presents ``n_random`` random SDRs (false positives) and then ``n_learned`` stored patterns with ``v``
cells replaced (recognition / false negatives). Every measured rate comes with its theoretical value and a
z-score ``(measured - theory) / binomial standard error``.
"""
import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.utils import check_random_state

from .montecarlo import random_sdrs
from .neurons import ActiveDendriteNeurons, noisy_patterns
from .theory import p_union_false_positive, p_union_false_positive_exact

__all__ = ["run_experiment", "write_run", "rates_table"]


def _rate(hits, trials, p_theory, variance=None):
    """Measured rate, theory and z-score; ``variance`` of the hit count defaults to binomial."""
    trials = int(trials)
    if trials == 0:
        return {"measured": float("nan"), "theory": float(p_theory), "trials": 0, "hits": 0, "z": float("nan")}
    var = trials * p_theory * (1 - p_theory) if variance is None else variance
    z = (hits - trials * p_theory) / np.sqrt(var) if var > 0 else (0.0 if hits == trials * p_theory else np.inf)
    return {"measured": hits / trials, "theory": float(p_theory), "trials": trials, "hits": int(hits),
            "z": float(z)}


def run_experiment(*, n_inputs=1000, n_active=40, n_neurons=40, n_segments=10, n_synapses=20, theta=4,
                   patterns_per_segment=1, noise=0, n_random=100, n_learned=0, shared_patterns=False,
                   params=None, target="numpy", seed=0, verbose=False):
    """Simulate the neurons on random and learned patterns; return ``(model, run, summary)``.

    ``shared_patterns``: segment k of every neuron stores the same pattern(s) (each neuron subsamples its
    own synapses), so one learned presentation tests ``n_neurons`` segments at once. Use it for the
    false-negative rate; keep it False for false positives (segments must be independent there).

    ``summary`` holds, for each measured quantity, ``measured``, ``theory``, ``trials``, ``hits`` and ``z``:
    ``segment_false_positive`` (theory: mean of each segment's exact P_FP given its synapse count),
    ``neuron_false_positive`` (1 - prod(1 - P_FP) over a neuron's segments), ``segment_false_negative``
    (P_FN(a, s, theta, v); for m > 1 patterns per segment and v = 0 the theory is 0), ``neuron_recognition``
    and ``latency_code`` (fraction of windows x neurons where "fired early" equals "some segment fired").
    """
    rng = check_random_state(seed)
    N, K, m, a = n_neurons, n_segments, patterns_per_segment, n_active
    model = ActiveDendriteNeurons(n_inputs=n_inputs, n_active=n_active, n_neurons=n_neurons,
                                  n_segments=n_segments, n_synapses=n_synapses, theta=theta,
                                  patterns_per_segment=patterns_per_segment, params=params, target=target,
                                  seed=rng)
    stored = None
    if shared_patterns:
        if not isinstance(K, (int, np.integer)) or not isinstance(m, (int, np.integer)):
            raise InvalidInputError("n_segments and patterns_per_segment must be ints.")
        base = random_sdrs(n_inputs, a, K * m, rng).reshape(1, K, m, a)
        stored = np.broadcast_to(base, (N, K, m, a)).copy()
    model.learn(stored)
    if n_random < 0 or n_learned < 0 or n_random + n_learned == 0:
        raise InvalidInputError(f"run_experiment needs n_random >= 0, n_learned >= 0 and at least one window; "
                                f"got n_random={n_random}, n_learned={n_learned}.")
    random_inputs = random_sdrs(n_inputs, a, n_random, rng)
    # learned windows: window w targets segment k = w mod K (pattern 0 of it) of neuron j
    target_k = np.arange(n_learned) % K
    target_j = np.zeros(n_learned, dtype=np.int64) if shared_patterns else rng.integers(0, N, n_learned)
    clean = model.stored_patterns_[target_j, target_k, 0]
    learned_inputs = noisy_patterns(clean, n_inputs, noise, rng) if n_learned else np.zeros((0, a), np.int64)
    inputs = np.concatenate([random_inputs, learned_inputs]).astype(np.int64)
    run = model.present(inputs, verbose=verbose)

    seg = run.segment_active.reshape(len(inputs), N, K)
    summary = {}
    p_seg = model.theory_false_positive()
    if n_random:
        rnd = seg[:n_random]
        hits = int(rnd.sum())
        var = n_random * float(np.sum(p_seg * (1 - p_seg)))
        summary["segment_false_positive"] = _rate(hits, rnd.size, float(p_seg.mean()), var)
        p_neu = model.theory_neuron_false_positive()
        summary["neuron_false_positive"] = _rate(int(run.predicted[:n_random].sum()), n_random * N,
                                                 float(p_neu.mean()),
                                                 n_random * float(np.sum(p_neu * (1 - p_neu))))
        if m > 1 and n_synapses == n_active:
            # the union property: each segment holds the union of m whole patterns
            hits_u = summary["segment_false_positive"]
            summary["union_false_positive_expected_size"] = _rate(hits_u["hits"], hits_u["trials"],
                                                                   p_union_false_positive(n_inputs, a, theta, m))
            summary["union_false_positive_exact"] = _rate(hits_u["hits"], hits_u["trials"],
                                                          p_union_false_positive_exact(n_inputs, a, theta, m))
    if n_learned:
        lrn = seg[n_random:]
        rows = np.arange(n_learned)
        if shared_patterns:
            target_active = lrn[rows, :, target_k]            # (n_learned, N): every neuron's segment k
            recognised = run.predicted[n_random:]
        else:
            target_active = lrn[rows, target_j, target_k][:, None]
            recognised = run.predicted[n_random:][rows, target_j][:, None]
        p_fn = model.theory_false_negative(noise) if m == 1 else (0.0 if noise == 0 else float("nan"))
        summary["segment_false_negative"] = _rate(int((~target_active).sum()), target_active.size, p_fn)
        summary["neuron_recognition"] = {"measured": float(recognised.mean()), "trials": int(recognised.size)}
    any_segment = seg.any(axis=2)
    summary["latency_code"] = {"measured": float(np.mean(any_segment == run.predicted)),
                               "trials": int(any_segment.size)}
    summary["wall_seconds"] = run.wall_seconds
    summary["simulated_seconds"] = float(len(inputs) * model.params_.period)
    return model, run, summary


def rates_table(summary):
    """The summary's rates as a pandas DataFrame (one row per measured quantity)."""
    import pandas as pd

    rows = [{"quantity": k, **{c: v.get(c, np.nan) for c in ("measured", "theory", "trials", "hits", "z")}}
            for k, v in summary.items() if isinstance(v, dict)]
    return pd.DataFrame(rows)


def write_run(path, model, run, summary, *, description=None, overwrite=False):
    """Write one run to NWB through the spine: spikes, somatic potential, windows, synapses, rates."""
    import pandas as pd

    from neurodata.io import Intervals, SpikeTrains, Traces, write_simulation

    p = model.params_
    N, K, n = model.n_neurons, model.n_segments, model.n_inputs
    end = float(len(run.inputs) * p.period)

    def trains(indices, times, count, prefix):
        order = np.argsort(indices, kind="stable")
        idx, t = indices[order], times[order]
        cuts = np.searchsorted(idx, np.arange(count + 1))
        return SpikeTrains([t[cuts[i]:cuts[i + 1]] for i in range(count)],
                           unit_ids=[f"{prefix}{i}" for i in range(count)], start=0.0, end=end)

    seg_i, seg_t = run.segment_spikes
    spikes = {"input": trains(np.asarray(run.input_spikes[0]), np.asarray(run.input_spikes[1]), n, "input_"),
              "soma": trains(np.asarray(run.soma_spikes[0]), np.asarray(run.soma_spikes[1]), N, "neuron_"),
              "nmda_plateaus": trains(np.asarray(seg_i), np.asarray(seg_t), N * K, "segment_")}
    traces = {}
    if run.v_trace.size:
        traces["soma_v"] = Traces(run.v_trace, times=run.v_times, unit="volts",
                                  channels=[f"neuron_{i}" for i in run.v_neurons], name="soma_v")
    n_random = int(summary.get("segment_false_positive", {}).get("trials", 0) // max(N * K, 1))
    kind = np.where(np.arange(len(run.inputs)) < n_random, "random", "learned")
    windows = Intervals(run.onsets, run.onsets + p.period,
                        table=pd.DataFrame({"kind": kind,
                                            "predicted_neurons": run.predicted.sum(axis=1),
                                            "active_segments": run.segment_active.sum(axis=1)}),
                        name="trials")
    synapses = pd.DataFrame({"segment": np.repeat(np.arange(N * K), model.segment_size_),
                             "neuron": np.repeat(np.arange(N * K) // K, model.segment_size_),
                             "input_cell": np.concatenate(model.segment_synapses_)})
    params = dict(run.params)
    params["summary"] = {k: v for k, v in summary.items()}
    params["citation"] = "Ahmad & Hawkins (2016) arXiv:1601.00720"
    return write_simulation(path, spikes=spikes, traces=traces, intervals={"trials": windows},
                            tables={"segment_synapses": synapses, "rates": rates_table(summary)},
                            parameters=params, resolution=p.dt,
                            description=description or "Active-dendrite neurons on SDRs (Ahmad & Hawkins 2016)",
                            overwrite=overwrite)
