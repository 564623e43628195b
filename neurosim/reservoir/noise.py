"""Thalamic noise of the reservoir as a Brian2 function: ``thalamic_gauss(i, step, seed)`` ~ N(0, 1).

Counter-based (a hash of neuron, 1 ms step and seed, no generator state) and drawn by a 256-layer ziggurat, in
C++ (``thalamic_noise.h``, for C++ standalone and Cython) and in NumPy (below, for the NumPy target).  Brian2's
own ``randn`` (polar method on a Mersenne twister, ~13 ns a draw in standalone) was the largest single cost of
the reservoir at N = 1e4 (22 %); this one takes ~4.6 ns (measured in the N = 1000 run).  The NumPy twin follows
the C++ operation for operation; the compiled targets are built with -ffast-math, so the two are guaranteed to
agree to rounding, not bit for bit (in the tested runs the spike trains are identical).
"""
import math
import os

import numpy as np

# included by absolute path: Brian2 2.9's Cython target ignores a function's include_dirs
HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thalamic_noise.h")

_TAIL = 3.6541528853610088
_LAYER_AREA = 4.92867323399e-3
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SEED_MIX = 0xD1B54A32D192ED03
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _tables():
    x = [0.0] * 257
    x[0] = _LAYER_AREA / math.exp(-0.5 * _TAIL * _TAIL)
    x[1] = _TAIL
    for k in range(1, 255):
        x[k + 1] = math.sqrt(-2.0 * math.log(_LAYER_AREA / x[k] + math.exp(-0.5 * x[k] * x[k])))
    x = np.array(x)
    return x, np.exp(-0.5 * x * x)


_X, _F = _tables()


def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _open_unit(u):
    return ((u >> np.uint64(11)).astype(float) + 0.5) / 9007199254740992.0


def thalamic_gauss_numpy(neuron, step, seed):
    """N(0, 1) draws for arrays of neuron indices and steps (broadcast) and an integer seed."""
    neuron, step = np.broadcast_arrays(np.atleast_1d(np.asarray(neuron, dtype=np.int64)),
                                       np.atleast_1d(np.asarray(step, dtype=np.int64)))
    mask32 = np.uint64(0xFFFFFFFF)
    counter = ((step.astype(np.uint64) & mask32) << np.uint64(32)) | (neuron.astype(np.uint64) & mask32)
    seed_word = np.uint64(((int(seed) & 0xFFFFFFFF) * _SEED_MIX) % 2 ** 64)
    s = _mix(counter.ravel() ^ seed_word)
    out = np.empty(s.size)
    todo = np.arange(s.size)
    while todo.size:
        s[todo] += _GAMMA
        u = _mix(s[todo])
        k = (u & np.uint64(255)).astype(np.int64)
        w = (u.view(np.int64) >> 11).astype(float) / 4503599627370496.0
        x = w * _X[k]
        done = np.abs(x) < _X[k + 1]
        out[todo[done]] = x[done]
        tail = ~done & (k == 0)
        for n in np.flatnonzero(tail):        # ~3 in 10^4 draws
            out[todo[n]] = _tail(s, todo[n], w[n])
        wedge = ~done & (k != 0)
        idx = todo[wedge]
        s[idx] += _GAMMA
        kw, xw = k[wedge], x[wedge]
        accept = _F[kw] + _open_unit(_mix(s[idx])) * (_F[kw + 1] - _F[kw]) < np.exp(-0.5 * xw * xw)
        out[idx[accept]] = xw[accept]
        todo = idx[~accept]
    return out.reshape(neuron.shape)


def _tail(s, n, w):
    state = s[n:n + 1]  # a view: advances s[n] as in the C++ loop
    while True:
        state += _GAMMA
        a = -math.log(float(_open_unit(_mix(state))[0])) / _TAIL
        state += _GAMMA
        b = -math.log(float(_open_unit(_mix(state))[0]))
        if not b + b < a * a:
            return -(_TAIL + a) if w < 0 else _TAIL + a


def thalamic_gauss_function():
    """The Brian2 Function, with its C++ (standalone), Cython and NumPy implementations."""
    import brian2 as b2
    from brian2.devices.cpp_standalone import CPPStandaloneCodeObject
    fn = b2.Function(thalamic_gauss_numpy, arg_units=[1, 1, 1], return_unit=1,
                     arg_types=["integer", "integer", "integer"], return_type="float")
    fn.implementations.add_implementation("numpy", code=thalamic_gauss_numpy)
    fn.implementations.add_implementation(
        CPPStandaloneCodeObject, code="", name="thalamic_gauss",
        compiler_kwds=dict(headers=[f'"{HEADER}"']))
    fn.implementations.add_implementation(
        "cython", code=f'cdef extern from "{HEADER}":\n    double thalamic_gauss(int, int, int)\n',
        name="thalamic_gauss")
    return fn
