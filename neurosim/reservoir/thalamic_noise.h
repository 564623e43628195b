// Thalamic noise of the reservoir: one N(0, 1) draw per (neuron, time step, seed), counter-based so that it
// needs no generator state (the same draws with any number of OpenMP threads and on every Brian2 target) and
// fast (the 256-layer ziggurat of Marsaglia & Tsang 2000 on SplitMix64, Steele et al. 2014: ~99 % of draws take
// one hash and one multiply).  Used by the C++ standalone and Cython targets; neurosim/reservoir/noise.py holds
// the NumPy twin, which must follow this file operation for operation.
#ifndef NEUROSIM_THALAMIC_NOISE_H
#define NEUROSIM_THALAMIC_NOISE_H

#include <cmath>
#include <cstdint>

namespace neurosim_noise {

const double TAIL = 3.6541528853610088;   // where the tail of the 256-layer ziggurat starts
const double LAYER_AREA = 4.92867323399e-3;
const double TWO_M52 = 1.0 / 4503599627370496.0;
const double TWO_M53 = 1.0 / 9007199254740992.0;
const uint64_t GAMMA = 0x9E3779B97F4A7C15ULL;   // SplitMix64 increment
const uint64_t SEED_MIX = 0xD1B54A32D192ED03ULL;

// x[k]: right edge of layer k (x[0] the width of the base strip with the tail, x[1] = TAIL, x[256] = 0);
// f[k] = exp(-x[k]^2 / 2)
struct Tables {
    double x[257];
    double f[257];
    Tables() {
        x[0] = LAYER_AREA / std::exp(-0.5 * TAIL * TAIL);
        x[1] = TAIL;
        for (int k = 1; k < 255; ++k)
            x[k + 1] = std::sqrt(-2.0 * std::log(LAYER_AREA / x[k] + std::exp(-0.5 * x[k] * x[k])));
        x[256] = 0.0;
        for (int k = 0; k < 257; ++k)
            f[k] = std::exp(-0.5 * x[k] * x[k]);
    }
};

inline const Tables& tables() {
    static const Tables t;  // built once, thread-safe (C++11 static initialisation)
    return t;
}

inline uint64_t mix(uint64_t z) {  // SplitMix64 output function
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

inline double open_unit(uint64_t u) {  // uniform in (0, 1)
    return ((double)(u >> 11) + 0.5) * TWO_M53;
}

}  // namespace neurosim_noise

inline double thalamic_gauss(int neuron, int step, int seed) {
    using namespace neurosim_noise;
    const Tables& t = tables();
    const uint64_t counter = ((uint64_t)(uint32_t)step << 32) | (uint64_t)(uint32_t)neuron;
    uint64_t s = mix(counter ^ ((uint64_t)(uint32_t)seed * SEED_MIX));
    for (;;) {
        s += GAMMA;
        const uint64_t u = mix(s);
        const int k = (int)(u & 255);
        const double w = (double)((int64_t)u >> 11) * TWO_M52;  // uniform in [-1, 1), bits disjoint from k
        const double x = w * t.x[k];
        if (std::fabs(x) < t.x[k + 1])
            return x;
        if (k == 0) {  // the tail beyond TAIL (Marsaglia 1964)
            double a, b;
            do {
                s += GAMMA;
                a = -std::log(open_unit(mix(s))) / TAIL;
                s += GAMMA;
                b = -std::log(open_unit(mix(s)));
            } while (b + b < a * a);
            return w < 0 ? -(TAIL + a) : TAIL + a;
        }
        s += GAMMA;
        if (t.f[k] + open_unit(mix(s)) * (t.f[k + 1] - t.f[k]) < std::exp(-0.5 * x * x))
            return x;
    }
}

#endif
