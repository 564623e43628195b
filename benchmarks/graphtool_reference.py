"""graph-tool's nested SBM (the paper's tool) against ours on the paper's weighted LFR grid, in one run.

Dyballa et al. (2024) detect communities with graph-tool's ``minimize_nested_blockmodel_dl`` (real-exponential
edge weights; degree-corrected or not, whichever has the lower description length). graph-tool is not
pip-installable: Debian's ``python3-graph-tool`` (``apt-get install -y python3-graph-tool``) runs under the
system ``/usr/bin/python3.11`` with Debian's numpy, so this script generates the graphs here
(``neurosim.groundtruth.lfr.weighted_lfr``), hands them to a worker process under that interpreter (this same
file with ``--worker``, which imports graph_tool and numpy only), and scores both partitions with the same NMI
(scikit-learn's, arithmetic normalisation) against the planted communities.

The grid: N = 125, k = 25, maxk = 100, beta = 2, tau1 = 2, tau2 = 1 (the paper's), mu_t = mu_w in
{0.3, 0.4, 0.5} (0.5 is the paper's), seeds 0..4. ``--write`` stores graph-tool's NMIs (and ours, for the
record) in tests/data/connectome_graphtool_lfr.json, the fixture of tests/test_connectome_dl.py.

    python benchmarks/graphtool_reference.py [--mus 0.3 0.4 0.5] [--seeds 0 1 2 3 4] [--write]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRAPH_TOOL_PYTHON = "/usr/bin/python3.11"
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "connectome_graphtool_lfr.json"
LFR = {"n_nodes": 125, "average_degree": 25, "max_degree": 100, "beta": 2.0, "tau1": 2.0, "tau2": 1.0}
MUS = (0.3, 0.4, 0.5)
SEEDS = (0, 1, 2, 3, 4)


def worker(path, seed):
    """Under /usr/bin/python3.11: fit graph-tool's nested SBM, DC and non-DC, keep the lower description length."""
    import graph_tool.all as gt
    import numpy as np

    gt.seed_rng(seed)
    np.random.seed(seed)
    w = np.load(path)["w"]
    iu = np.triu_indices_from(w, 1)
    sel = w[iu] > 0
    g = gt.Graph(directed=False)
    g.add_vertex(w.shape[0])
    g.add_edge_list(np.c_[iu[0][sel], iu[1][sel]])
    weight = g.new_ep("double")
    weight.a = w[iu][sel]
    fits = {}
    for dc in (False, True):
        state = gt.minimize_nested_blockmodel_dl(
            g, state_args=dict(deg_corr=dc, recs=[weight], rec_types=["real-exponential"]))
        fits[dc] = (float(state.entropy()), state.levels[0].get_blocks().a.tolist())
    dc = min(fits, key=lambda d: fits[d][0])
    print(json.dumps({"degree_corrected": dc, "dl": fits[dc][0], "labels": fits[dc][1],
                      "dl_other": fits[not dc][0], "gt_version": gt.__version__}))


def graph_tool_available():
    """Whether graph_tool imports under the system interpreter."""
    try:
        return subprocess.run([GRAPH_TOOL_PYTHON, "-c", "import graph_tool"], capture_output=True,
                              timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def graph_tool_fit(weights, seed):
    """graph-tool's labels for one graph (runs the worker under /usr/bin/python3.11)."""
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.npz"
        np.savez(path, w=weights)
        done = subprocess.run([GRAPH_TOOL_PYTHON, __file__, "--worker", str(path), str(seed)], capture_output=True,
                              text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"graph-tool worker failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ours_fit(weights, seed):
    from neurodata.connectome import WeightedSBM

    sbm = WeightedSBM(seed=seed).fit(weights)
    return {"degree_corrected": sbm.degree_corrected_, "dl": sbm.description_length_, "labels": sbm.labels_.tolist()}


def run_grid(mus=MUS, seeds=SEEDS, with_graph_tool=True):
    """Per (mu, seed): NMI of ours and (optionally) graph-tool's partition. Returns a list of records."""
    from sklearn.metrics import normalized_mutual_info_score

    from neurosim.groundtruth.lfr import weighted_lfr

    records = []
    for mu in mus:
        for seed in seeds:
            weights, truth = weighted_lfr(mu_t=mu, mu_w=mu, seed=seed, **LFR)
            rec = {"mu": mu, "seed": seed}
            start = time.perf_counter()
            ours = ours_fit(weights, seed)
            rec["ours_s"] = round(time.perf_counter() - start, 2)
            rec["ours_nmi"] = round(float(normalized_mutual_info_score(truth, ours["labels"])), 4)
            rec["ours_blocks"] = len(set(ours["labels"]))
            rec["ours_degree_corrected"] = bool(ours["degree_corrected"])
            if with_graph_tool:
                start = time.perf_counter()
                ref = graph_tool_fit(weights, seed)
                rec["graph_tool_s"] = round(time.perf_counter() - start, 2)
                rec["graph_tool_nmi"] = round(float(normalized_mutual_info_score(truth, ref["labels"])), 4)
                rec["graph_tool_blocks"] = len(set(ref["labels"]))
                rec["graph_tool_degree_corrected"] = bool(ref["degree_corrected"])
                rec["graph_tool_version"] = ref["gt_version"]
            records.append(rec)
            print(json.dumps(rec), flush=True)
    return records


def summarise(records):
    """Mean NMI per mu for ours and graph-tool."""
    out = {}
    for mu in sorted({r["mu"] for r in records}):
        rows = [r for r in records if r["mu"] == mu]
        out[mu] = {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in ("ours_nmi", "graph_tool_nmi")
                   if k in rows[0]}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mus", type=float, nargs="+", default=list(MUS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--write", action="store_true", help=f"store the NMIs in {FIXTURE}")
    args = parser.parse_args(argv)
    if not graph_tool_available():
        print(f"graph-tool does not import under {GRAPH_TOOL_PYTHON}: apt-get install -y python3-graph-tool",
              file=sys.stderr)
        return 1
    records = run_grid(args.mus, args.seeds)
    summary = summarise(records)
    for mu, row in summary.items():
        print(f"mu={mu}: ours {row['ours_nmi']:.4f}  graph-tool {row['graph_tool_nmi']:.4f}  "
              f"ours - graph-tool {row['ours_nmi'] - row['graph_tool_nmi']:+.4f}")
    if args.write:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps({"lfr": LFR, "grid": {"mu_t = mu_w": list(args.mus), "seeds": list(args.seeds)},
                                       "nmi": "sklearn normalized_mutual_info_score (arithmetic)",
                                       "records": records, "summary": {str(k): v for k, v in summary.items()}},
                                      indent=1) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(main())
