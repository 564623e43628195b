"""Exact theory of active dendrites on SDRs (Ahmad & Hawkins 2016): unit tests against exact arithmetic."""
import subprocess
import sys
from fractions import Fraction
from math import comb

import numpy as np
import pytest

import neurosim.dendrites as nd
from neurodata.errors import InvalidInputError


def exact_fp(n, a, s, theta):
    """P_FP with integer arithmetic: sum_b C(s,b) C(n-s,a-b) / C(n,a)."""
    return Fraction(sum(comb(s, b) * comb(n - s, a - b) for b in range(theta, s + 1)), comb(n, a))


def exact_fn(a, s, theta, v):
    return Fraction(sum(comb(s, b) * comb(a - s, v - b) for b in range(s - theta + 1, s + 1)), comb(a, v))


@pytest.mark.parametrize("n,a,s,theta,paper", [
    (10000, 300, 24, 12, 8.3758e-13),     # paper / notebook ("A small subsample can be very reliable")
    (200000, 2000, 10, 10, 9.78e-21),     # paper
    (200000, 2000, 20, 10, 1.65e-15),     # the formula (the Frontiers text prints 1.6e-18: a typo)
    (100000, 2000, 6, 6, 6.35308872941916e-11),   # notebook, Table 1B
    (100000, 2000, 10, 10, 1.00163216178113e-17),  # notebook, Table 1B
    (100000, 2000, 12, 6, 5.29386836275369e-8),   # notebook, Table 1C (s = 2 theta)
    (100000, 2000, 24, 12, 8.58694100276592e-15),  # notebook, Table 1C
    (10000, 300, 30, 15, 1.04919182521237e-15),   # notebook
    (300, 64, 64, 12, 0.767798046805888),         # notebook, effect of n
])
def test_false_positive_matches_exact_arithmetic_and_paper(n, a, s, theta, paper):
    got = nd.p_false_positive(n, a, s, theta)
    assert type(got) is float
    assert got == pytest.approx(float(exact_fp(n, a, s, theta)), rel=1e-6)
    assert got == pytest.approx(paper, rel=5e-3)  # the paper prints 3-5 significant digits


def test_false_positive_large_population_no_overflow():
    # n = 10^6, s = 500: binomials far beyond float range, still exact to 1e-6 in log space
    got = nd.p_false_positive(10**6, 5000, 500, 20)
    assert got == pytest.approx(float(exact_fp(10**6, 5000, 500, 20)), rel=1e-6)
    assert 0.0 < nd.p_false_positive(10**6, 20000, 500, 60) <= 1.0


def test_false_positive_edge_cases():
    assert nd.p_false_positive(1000, 50, 20, 0) == pytest.approx(1.0)
    assert nd.p_false_positive(1000, 5, 20, 6) == 0.0  # more than a coincident inputs impossible
    assert nd.p_false_positive(100, 100, 20, 20) == pytest.approx(1.0)  # everything active
    assert nd.p_false_positive(np.int64(10000), 300.0, 24, 12) == pytest.approx(8.375845e-13, rel=1e-6)


@pytest.mark.parametrize("args", [(100, 10, 20, 21), (100, 101, 20, 5), (-1, 10, 5, 2), (100, 10, -5, 2),
                                  (100, 10, 5, -1), (100, 10, 5, 2.5), (100, 10, 200, 2), ("100", 10, 5, 2)])
def test_false_positive_rejects_invalid_arguments(args):
    with pytest.raises(InvalidInputError):
        nd.p_false_positive(*args)


@pytest.mark.parametrize("a,s,theta,v", [(128, 30, 8, 64), (128, 30, 12, 51), (128, 30, 16, 38), (40, 20, 10, 20),
                                         (300, 24, 12, 150)])
def test_false_negative_matches_exact_arithmetic(a, s, theta, v):
    assert nd.p_false_negative(a, s, theta, v) == pytest.approx(float(exact_fn(a, s, theta, v)), rel=1e-6)


def test_false_negative_notebook_values():
    # notebook "Impact of noise on false negatives": a = 128, s = 30, theta = 8, 12, 16
    assert nd.p_false_negative(128, 30, 8, 64) == pytest.approx(0.000735429456875121, rel=1e-6)
    assert nd.p_false_negative(128, 30, 12, 64) == pytest.approx(0.0716985160403564, rel=1e-6)
    assert nd.p_false_negative(128, 30, 16, 64) == pytest.approx(0.582501773030327, rel=1e-6)
    assert nd.p_false_negative(128, 30, 12, 0) == 0.0
    assert nd.p_false_negative(128, 30, 12, 128) == pytest.approx(1.0)


@pytest.mark.parametrize("args", [(20, 30, 10, 5), (40, 20, 21, 5), (40, 20, 10, 41), (40, -1, 0, 0)])
def test_false_negative_rejects_invalid_arguments(args):
    with pytest.raises(InvalidInputError):
        nd.p_false_negative(*args)


def test_union_false_positive_notebook_values():
    # sdr_math.ipynb, "Inexact Matches with Unions" (gamma-generalised binomials, expected union size)
    assert nd.p_union_false_positive(1024, 20, 20, 20) == pytest.approx(1.23782572305677e-10, rel=1e-6)
    assert nd.p_union_false_positive(1024, 20, 19, 20) == pytest.approx(5.55166122237973e-9, rel=1e-6)
    assert nd.p_union_false_positive(1024, 20, 18, 20) == pytest.approx(1.18086573478834e-7, rel=1e-6)
    assert nd.p_union_false_positive(2048, 20, 18, 20) == pytest.approx(3.08795140545437e-12, rel=1e-6)
    assert type(nd.p_union_false_positive(1024, 20, 18, 20)) is float


def test_union_properties():
    # m = 1: the union is one pattern of a cells, so the formula is P_FP with s = a
    assert nd.p_union_false_positive(1000, 30, 10, 1) == pytest.approx(nd.p_false_positive(1000, 30, 30, 10),
                                                                       rel=1e-9)
    assert nd.union_on_bits(1000, 30, 5) == pytest.approx(1000 * (1 - 0.97 ** 5))
    vals = [nd.p_union_false_positive(2000, 40, 8, m) for m in range(1, 15)]
    assert np.all(np.diff(vals) > 0)  # more stored patterns -> more false positives
    p = nd.union_size_distribution(200, 10, 4)
    assert p.sum() == pytest.approx(1.0)
    assert (p * np.arange(201)).sum() == pytest.approx(nd.union_on_bits(200, 10, 4), rel=1e-9)
    assert nd.p_union_false_positive(100, 10, 11, 3) == 0.0
    for args in [(100, 101, 5, 2), (100, 10, -1, 2), (100, 10, 5, -2)]:
        with pytest.raises(InvalidInputError):
            nd.p_union_false_positive(*args)


def test_mixed_segment_table_1d_and_classification_bound():
    # notebook Table 1D: n = 100000, a = 2000, s = 2 m theta
    assert nd.p_mixed_segment_false_positive(100000, 2000, 10, 2, 20) == pytest.approx(4.91541864813209e-9,
                                                                                       rel=1e-6)
    assert nd.p_mixed_segment_false_positive(100000, 2000, 10, 4, 20) == pytest.approx(4.62568448037595e-6,
                                                                                       rel=1e-6)
    assert nd.p_mixed_segment_false_positive(100000, 2000, 20, 6, 40) == pytest.approx(1.07990763941591e-7,
                                                                                       rel=1e-6)
    p = nd.p_false_positive(1000, 40, 20, 4)
    q = nd.p_neuron_false_positive(1000, 40, 20, 4, 10)
    assert q == pytest.approx(1 - (1 - p) ** 10, rel=1e-12)
    assert p < q <= 10 * p


def test_threshold_sweep_median_first_below_1e7_at_theta_8():
    sweep = nd.threshold_sweep()
    assert sweep["table"].shape == (22 * 5 * 6 * 7,)
    med = dict(zip(sweep["theta"].tolist(), sweep["median"]))
    assert med[7] >= 1e-7 > med[8]
    assert nd.optimal_threshold(1e-7) == 8
    assert np.all(np.diff(sweep["median"]) < 0)


def test_monotonicity():
    # falls with n at fixed a, rises with a at fixed n, falls with theta
    by_n = [nd.p_false_positive(n, 200, 24, 8) for n in range(2000, 40001, 2000)]
    by_a = [nd.p_false_positive(10000, a, 24, 8) for a in range(50, 1001, 50)]
    by_theta = [nd.p_false_positive(10000, 300, 24, t) for t in range(1, 25)]
    assert np.all(np.diff(by_n) < 0)
    assert np.all(np.diff(by_a) > 0)
    assert np.all(np.diff(by_theta) < 0)
    by_v = [nd.p_false_negative(128, 30, 12, v) for v in range(0, 129, 8)]
    assert np.all(np.diff(by_v) >= 0)


def test_vectorised_log_kernel_matches_scalars():
    n = np.array([1000, 10000, 200000])
    got = np.exp(nd.log_p_false_positive(n, [50, 300, 2000], [20, 24, 10], [3, 12, 10]))
    want = [nd.p_false_positive(1000, 50, 20, 3), nd.p_false_positive(10000, 300, 24, 12),
            nd.p_false_positive(200000, 2000, 10, 10)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_import_is_light():
    code = "import sys, neurosim.dendrites; assert 'brian2' not in sys.modules and 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_model_card_documents_the_neuron_defaults():
    from dataclasses import asdict

    from neurodata.cards import load_card
    from neurosim.dendrites.neurons import NeuronParams

    card = load_card("ahmad_hawkins_2016")["defaults"]
    p = asdict(NeuronParams())
    for key in ("tau_m", "v_rest", "v_threshold", "v_reset", "refractory", "plateau", "ff_drive", "ff_onset", "dt"):
        assert card[key]["value"] == pytest.approx(p[key]), key
    assert card["integration_window"]["value"] == pytest.approx(p["period"])
    assert card["input_timing"]["value"] == {"offset": p["input_offset"], "jitter": p["input_jitter"]}
    pred, unpred = NeuronParams().latencies()
    assert unpred == pytest.approx(0.0161, abs=1e-4) and pred < 0.0084
