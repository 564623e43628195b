"""Event-driven twins of the delay kernel: a NumPy accumulator and a Brian2 network with heterogeneous delays.

A kernel tap K(c, p, d, i, j) is a synapse from input neuron (p, x, y) to detector (c, x + i - K_X//2,
y + j - K_Y//2) with weight K and delay d * dt. Each detector's ``evidence`` is reset to its class bias at the
start of every time step and receives the weights of the spikes arriving in that step, so it equals the dense
convolution B(c, t, x, y) of :func:`neurosim.motion.model.delay_convolution` event for event; with ``flip`` a
second set of synapses from the opposite polarity feeds a second evidence variable and the detector takes the
larger (the model's ON/OFF flip). Given thresholds, the detectors spike with a winner-take-all over classes
(:mod:`neurosim.motion.spiking`). Zero taps (pruned weights) create no synapse, so the work scales with the
number of kept weights.
"""
import dataclasses
import gc
import time

import numpy as np

from neurodata.errors import BackendUnavailableError, InvalidInputError
from neurodata.utils import check_option

from ..backends import DEVICES, use_device
from .events import check_events, events_to_list


def _check_kernel(kernel, bias=None):
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 5 or kernel.shape[1] != 2:
        raise InvalidInputError(f"kernel must be (classes, 2, K_T, K_X, K_Y); got shape {kernel.shape}.")
    if kernel.shape[3] % 2 == 0 or kernel.shape[4] % 2 == 0:
        raise InvalidInputError(f"kernel spatial sizes must be odd; got {kernel.shape[3:]}.")
    bias = np.zeros(kernel.shape[0]) if bias is None else np.asarray(bias, dtype=float)
    if bias.shape != kernel.shape[:1]:
        raise InvalidInputError(f"bias must have shape ({kernel.shape[0]},); got {bias.shape}.")
    return kernel, bias


def _check_movie(events, kernel, bias, owner):
    """One movie's events (1, 2, T, X, Y) with a checked kernel and bias; ``owner`` names the caller."""
    events = check_events(events)
    if len(events) != 1:
        raise InvalidInputError(f"{owner} takes one movie (2, n_steps, x, y).")
    kernel, bias = _check_kernel(kernel, bias)
    return events, kernel, bias


def kernel_synapses(kernel, size):
    """Synapse list of ``kernel`` on a (X, Y) pixel grid: arrays (pre, post, weight, delay_steps).

    pre = p * X * Y + x * Y + y; post = c * X * Y + x' * Y + y'; taps falling outside the grid are dropped
    (zero padding of the dense convolution).
    """
    kernel, _ = _check_kernel(kernel)
    nx, ny = size
    n_classes, _, kt, kx, ky = kernel.shape
    c, p, d, i, j = np.nonzero(kernel)
    w = kernel[c, p, d, i, j]
    x, y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    x, y = x.ravel(), y.ravel()
    xo = x[None, :] + (i - kx // 2)[:, None]
    yo = y[None, :] + (j - ky // 2)[:, None]
    ok = (xo >= 0) & (xo < nx) & (yo >= 0) & (yo < ny)
    tap, pix = np.nonzero(ok)
    pre = p[tap] * nx * ny + x[pix] * ny + y[pix]
    post = c[tap] * nx * ny + xo[tap, pix] * ny + yo[tap, pix]
    return pre.astype(np.int64), post.astype(np.int64), w[tap], d[tap].astype(np.int64)


def accumulate_events(events, kernel, bias=None, *, chunk=2 ** 22):
    """NumPy event-driven evidence (C, T, X, Y) of one movie's events (2, T, X, Y): each event adds the
    weights of its synapses at the arrival step t + d. Reference for the Brian2 twin and the dense conv."""
    events, kernel, bias = _check_movie(events, kernel, bias, "accumulate_events")
    _, _, n_steps, nx, ny = events.shape
    n_classes = kernel.shape[0]
    pre, post, weight, delay = kernel_synapses(kernel, (nx, ny))
    t, p, x, y = events_to_list(events[0])
    source = p * nx * ny + x * ny + y
    out = np.zeros(n_classes * n_steps * nx * ny)
    order = np.argsort(pre, kind="stable")
    pre, post, weight, delay = pre[order], post[order], weight[order], delay[order]
    start = np.searchsorted(pre, np.arange(2 * nx * ny))
    stop = np.searchsorted(pre, np.arange(2 * nx * ny), side="right")
    # expand every event into its synapses, in chunks to bound memory
    counts = stop[source] - start[source]
    first = 0
    while first < len(source):
        last = first + 1
        total = counts[first]
        while last < len(source) and total + counts[last] <= chunk:
            total += counts[last]
            last += 1
        ev = np.arange(first, last)
        rep = np.repeat(ev, counts[ev])
        offs = np.arange(len(rep)) - np.repeat(np.cumsum(counts[ev]) - counts[ev], counts[ev])
        syn = start[source[rep]] + offs
        arrival = t[rep] + delay[syn]
        ok = arrival < n_steps
        cls, pix = np.divmod(post[syn[ok]], nx * ny)
        index = (cls * n_steps + arrival[ok]) * nx * ny + pix
        out += np.bincount(index, weights=weight[syn[ok]], minlength=out.size)
        first = last
    return out.reshape(n_classes, n_steps, nx, ny) + bias[:, None, None, None]


@dataclasses.dataclass
class TwinResult:
    """Evidence of the Brian2 twin and what it cost."""

    evidence: np.ndarray  # (classes, T, X, Y); with flip=True the maximum over the movie and its ON/OFF swap
    n_synapses: int
    n_events: int
    build_seconds: float
    run_seconds: float
    device: str
    spikes: object = None  # (classes, T, X, Y) bool output spikes when thresholds were given, else None

    @property
    def wall_seconds(self):
        return self.build_seconds + self.run_seconds


def run_brian2_twin(events, kernel, bias=None, *, thresholds=None, flip=False, dt=1e-3, device="runtime",
                    target=None, threads=None, directory=None):
    """Simulate the kernel as Brian2 synapses with heterogeneous delays driven by one movie's events.

    Parameters
    ----------
    events : (2, T, X, Y) bool
    kernel : (classes, 2, K_T, K_X, K_Y); zero taps make no synapse
    bias : (classes,), optional
    thresholds : (classes,), optional
        Firing thresholds (e.g. ``HeterogeneousDelayClassifier.thresholds_``): the detectors then spike with a
        winner-take-all over classes at each position, as :func:`neurosim.motion.spiking.winner_take_all`.
    flip : bool
        ON/OFF flip of the model (``config.flip``): every tap makes a second synapse from the opposite
        polarity onto a second evidence variable, and the detector's evidence is the larger of the two.
    dt : float, seconds per time step (the delay unit)
    device : {"runtime", "cpp_standalone", "cuda_standalone"}; "genn" raises BackendUnavailableError because
        Brian2GeNN does not support heterogeneous synaptic delays.
    target, threads, directory : passed to :func:`neurosim.backends.use_device`.

    Returns
    -------
    TwinResult
        ``evidence`` (classes, T, X, Y) equal to the dense causal convolution (with ``flip``, its ON/OFF
        maximum) and, with ``thresholds``, ``spikes`` (classes, T, X, Y) bool.

    Notes
    -----
    Per time step: the evidence variables are reset to the bias at ``start``, the spikes whose delay ends in
    this step add their weights in ``synapses``, and at ``end`` a summed variable counts, for each detector,
    the classes at the same position that beat it (larger evidence, or equal evidence and a lower class
    index); the threshold ``v > theta and n_better == 0`` is checked after that (the thresholder is moved to
    ``end``), then evidence and spikes are recorded.
    """
    check_option(device, "device", DEVICES)
    if device == "genn":
        raise BackendUnavailableError(
            "Brian2GeNN does not support heterogeneous synaptic delays (GeNN needs one delay per synapse "
            "population), so the motion twin cannot run on device='genn'. Use 'cpp_standalone' or "
            "'cuda_standalone' (Brian2CUDA supports heterogeneous delays), or 'runtime'.")
    events, kernel, bias = _check_movie(events, kernel, bias, "run_brian2_twin")
    _, _, n_steps, nx, ny = events.shape
    n_classes = kernel.shape[0]
    if thresholds is not None:
        thresholds = np.asarray(thresholds, dtype=float)
        if thresholds.shape != (n_classes,) or np.any(np.isnan(thresholds)):
            raise InvalidInputError(f"thresholds must be {n_classes} numbers (one per class, no NaN); got "
                                    f"{thresholds!r}.")
    gc.collect()  # the caller's garbage (e.g. a previous twin) is not this twin's cost; see gc.freeze below
    tic = time.perf_counter()
    pre, post, weight, delay = kernel_synapses(kernel, (nx, ny))
    t, p, x, y = events_to_list(events[0])
    n_pix = nx * ny
    with use_device(device, directory=directory, threads=threads, target=target, label="motion_twin"):
        import brian2 as b2

        b2.defaultclock.dt = dt * b2.second
        step = dt * b2.second
        inputs = b2.SpikeGeneratorGroup(2 * n_pix, p * n_pix + x * ny + y, t * dt * b2.second, dt=step,
                                        name="motion_input")
        # max(a, b) written with exact 0/1 factors, so that it returns a or b bit for bit
        v_expr = ("evidence * int(evidence >= evidence_flip) + evidence_flip * int(evidence_flip > evidence)"
                  if flip else "evidence")
        model = "\n".join(["evidence : 1", "evidence_flip : 1", "bias : 1 (constant)", "theta : 1 (constant)",
                           "cls : integer (constant)", "n_better : 1", f"v = {v_expr} : 1"])
        spiking = thresholds is not None
        detectors = b2.NeuronGroup(n_classes * n_pix, model, dt=step, name="motion_detectors",
                                   threshold="v > theta and n_better < 0.5" if spiking else None,
                                   reset="" if spiking else None)  # no reset: the evidence is reset every step
        detectors.bias = np.repeat(bias, n_pix)
        detectors.cls = np.repeat(np.arange(n_classes), n_pix)
        if spiking:
            detectors.theta = np.repeat(thresholds, n_pix)
        # reset to the bias before this step's arrivals, record after them
        detectors.run_regularly("evidence = bias\nevidence_flip = bias", when="start", name="motion_reset")
        objects = [inputs, detectors]
        n_syn = 0
        for name, target_var, source_pre in (("motion_synapses", "evidence", pre),
                                             ("motion_synapses_flip", "evidence_flip", (pre + n_pix) % (2 * n_pix))):
            if name.endswith("flip") and not flip:
                continue
            synapses = b2.Synapses(inputs, detectors, "w : 1 (constant)", on_pre=f"{target_var}_post += w",
                                   dt=step, name=name)
            if len(pre):
                synapses.connect(i=source_pre, j=post)
                synapses.w = weight
                synapses.delay = delay * step
            objects.append(synapses)
            n_syn += len(pre)
        if spiking:
            # winner-take-all: each detector counts the detectors of the other classes at its position that beat it
            wta = b2.Synapses(detectors, detectors,
                              "n_better_post = int(v_pre > v_post or (v_pre == v_post and cls_pre < cls_post)) "
                              ": 1 (summed)", dt=step, name="motion_wta")
            if n_classes > 1:
                c1, c2 = np.nonzero(~np.eye(n_classes, dtype=bool))
                pix = np.arange(n_pix)
                wta.connect(i=(c1[:, None] * n_pix + pix).ravel(), j=(c2[:, None] * n_pix + pix).ravel())
                wta.summed_updaters["n_better_post"].when = "end"
                wta.summed_updaters["n_better_post"].order = 0
            detectors.thresholder["spike"].when = "end"
            detectors.thresholder["spike"].order = 1
            spike_monitor = b2.SpikeMonitor(detectors, when="end", order=3, name="motion_spike_monitor")
            objects += [wta, spike_monitor]
        monitor = b2.StateMonitor(detectors, "v", record=True, when="end", order=2, dt=step,
                                  name="motion_monitor")
        net = b2.Network(*objects, monitor)
        build = time.perf_counter() - tic
        tic = time.perf_counter()
        # Network.run starts with gc.collect(), whose cost grows with every Python object of the process (torch,
        # pandas, ...), not with the network: freeze the existing heap so that it only scans what is new
        gc.freeze()
        try:
            net.run(n_steps * dt * b2.second, namespace={})
        finally:
            gc.unfreeze()
        values = np.asarray(monitor.v)  # (neurons, T)
        out_spikes = None
        if spiking:
            out_spikes = np.zeros((n_classes * n_pix, n_steps), dtype=bool)
            steps = np.rint(np.asarray(spike_monitor.t / b2.second) / dt).astype(np.int64)
            out_spikes[np.asarray(spike_monitor.i), steps] = True
        run = time.perf_counter() - tic
    if values.shape[1] != n_steps:
        values = values[:, :n_steps]
    evidence = values.reshape(n_classes, nx, ny, n_steps).transpose(0, 3, 1, 2)
    if out_spikes is not None:
        out_spikes = out_spikes.reshape(n_classes, nx, ny, n_steps).transpose(0, 3, 1, 2)
    return TwinResult(evidence=evidence, n_synapses=int(n_syn), n_events=int(len(t)), build_seconds=build,
                      run_seconds=run, device=device, spikes=out_spikes)
