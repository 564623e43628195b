"""What a dynamic-connectome fit returns: factors, communities, parameters; NWB round trip and a figure."""
from dataclasses import dataclass, field

import numpy as np

from ..errors import NWBContentError
from ..utils import save_figure
from .affinity import pairs_to_matrix

ANALYSIS = "connectome"


@dataclass(frozen=True)
class ConnectomeResult:
    """NTF components of the affinity tensor and the weighted-SBM communities of each component's graph.

    Component k has a temporal factor ``temporal[:, k]`` (when the motif is active, on ``times``), an animal
    factor ``animal[:, k]`` (which animals show it), an affinity factor ``affinity[:, k]`` (a weighted graph
    over the pairs i < j of ``neuron_labels``), a scale ``weights[k]``, and a partition ``partitions[k]`` of the
    neurons into ``n_blocks[k]`` blocks (block 0 binds most strongly).
    """
    weights: np.ndarray
    temporal: np.ndarray
    animal: np.ndarray
    affinity: np.ndarray
    times: np.ndarray
    neuron_labels: list
    animal_names: list
    partitions: np.ndarray
    n_blocks: np.ndarray
    description_length: np.ndarray
    rank_scores: dict = field(default_factory=dict)
    reconstruction_error: float = float("nan")
    parameters: dict = field(default_factory=dict)

    @property
    def rank(self):
        return int(self.weights.size)

    @property
    def n_neurons(self):
        return len(self.neuron_labels)

    def affinity_matrix(self, component):
        """Weighted graph (N × N) of one component."""
        return pairs_to_matrix(self.affinity[:, component], self.n_neurons)

    def community(self, component, block=0):
        """Labels of the neurons in ``block`` (default: the most tightly bound block) of a component."""
        members = np.flatnonzero(self.partitions[component] == block)
        return [self.neuron_labels[i] for i in members]

    def community_order(self, component):
        """Neuron order that groups blocks (strongest first), by decreasing strength inside each block."""
        strength = self.affinity_matrix(component).sum(axis=1)
        return np.lexsort((-strength, self.partitions[component]))

    def __repr__(self):
        return (f"<ConnectomeResult: {self.rank} components, {self.n_neurons} neurons, "
                f"{len(self.animal_names)} animals, {self.times.size} time points, blocks per component "
                f"{list(map(int, self.n_blocks))}>")

    # ---------------------------------------------------------------- NWB
    def to_nwb(self, path, *, sources=(), description=None, overwrite=False):
        """Write a new NWB results file (factors, partitions, neurons, animals, rank scores, parameters)."""
        import pandas as pd

        from ..io import write_results
        from ..io.objects import Traces

        scores = pd.DataFrame([{"rank": int(r), "error": float(s["error"]), "stability": float(s["stability"])}
                               for r, s in sorted(self.rank_scores.items())])
        tables = {"neurons": pd.DataFrame({"neuron": [str(v) for v in self.neuron_labels]}),
                  "animals": pd.DataFrame({"animal": [str(v) for v in self.animal_names]})}
        if len(scores):
            tables["rank_scores"] = scores
        params = dict(self.parameters, reconstruction_error=float(self.reconstruction_error))
        times = np.asarray(self.times, dtype=float)
        temporal = Traces(self.temporal, times=times, channels=[f"component{k}" for k in range(self.rank)],
                          name="temporal_factors")
        # the temporal factors have a time axis: one TimeSeries on the frame times (pynapple loads it), no
        # second copy as an array
        return write_results(
            path, analysis=ANALYSIS, sources=list(sources), parameters=params,
            arrays={"weights": self.weights, "animal_factors": self.animal, "affinity_factors": self.affinity,
                    "partitions": self.partitions, "n_blocks": self.n_blocks,
                    "description_length": self.description_length},
            tables=tables, traces={"temporal": temporal},
            descriptions={"weights": "weight of each NTF component", "animal_factors": "animal x component loadings",
                          "affinity_factors": "affinity (neuron-pair) x component loadings of the NTF",
                          "partitions": "weighted-SBM block of each neuron, per component (components x neurons)",
                          "n_blocks": "number of SBM blocks chosen by description length, per component",
                          "description_length": "description length (nats) of the chosen SBM, per component",
                          "temporal": "temporal factor of each NTF component (time x components)",
                          "neurons": "neuron labels, in the order of the factors", "animals": "animal names",
                          "rank_scores": "reconstruction error and stability of each candidate rank"},
            description=description or "Dynamic functional connectome (Dyballa et al. 2024): NTF components "
                                       "of derivative affinities and weighted-SBM communities", overwrite=overwrite)

    @classmethod
    def from_nwb(cls, path):
        """Read a results file written by :meth:`to_nwb`."""
        from ..io import read_results

        res = read_results(path)
        if res.analysis != ANALYSIS:
            raise NWBContentError(f"{path}: holds {res.analysis!r} results, not {ANALYSIS!r}.")
        a, t = res.arrays, res.tables
        scores = {}
        if "rank_scores" in t:
            scores = {int(r.rank): {"error": float(r.error), "stability": float(r.stability)}
                      for r in t["rank_scores"].itertuples()}
        params = dict(res.parameters)
        err = params.pop("reconstruction_error", float("nan"))
        if "temporal" in res.traces and "temporal_factors" not in a:
            temporal, times = np.asarray(res.traces["temporal"].data), np.asarray(res.traces["temporal"].times)
        else:  # files written before the temporal factors were kept only as a TimeSeries
            temporal, times = a["temporal_factors"], a["times"]
        return cls(weights=a["weights"], temporal=temporal, animal=a["animal_factors"],
                   affinity=a["affinity_factors"], times=times, neuron_labels=list(t["neurons"]["neuron"]),
                   animal_names=list(t["animals"]["animal"]), partitions=a["partitions"], n_blocks=a["n_blocks"],
                   # files written before issue 30 stored the ICL of the variational SBM instead
                   description_length=a["description_length"] if "description_length" in a else a["icl"],
                   rank_scores=scores, reconstruction_error=err, parameters=params)

    # ---------------------------------------------------------------- figure
    def plot(self, path=None, max_components=6, *, overwrite=False):
        """Temporal factors, animal loadings and community-ordered affinity graphs; saved to ``path`` if given
        (an existing file needs ``overwrite=True``)."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        n = min(self.rank, max_components)
        fig, axes = plt.subplots(3, n, figsize=(3.0 * n, 7.5), squeeze=False,
                                 gridspec_kw={"height_ratios": [1, 0.8, 2]})
        for k in range(n):
            ax = axes[0, k]
            ax.plot(self.times, self.temporal[:, k], color=f"C{k}")
            ax.set_title(f"component {k}")
            ax.set_xlabel("time (s)")
            ax = axes[1, k]
            ax.bar(np.arange(len(self.animal_names)), self.animal[:, k], color=f"C{k}")
            ax.set_xticks(np.arange(len(self.animal_names)))
            ax.set_xticklabels([str(a)[-12:] for a in self.animal_names], rotation=90, fontsize=6)
            ax.set_ylabel("animal loading")
            ax = axes[2, k]
            order = self.community_order(k)
            mat = self.affinity_matrix(k)[np.ix_(order, order)]
            ax.imshow(mat, cmap="magma", interpolation="nearest")
            bounds = np.flatnonzero(np.diff(self.partitions[k][order])) + 0.5
            for b in bounds:
                ax.axhline(b, color="w", lw=0.6)
                ax.axvline(b, color="w", lw=0.6)
            nb = int(self.n_blocks[k])
            ax.set_title(f"{nb} block{'s' if nb != 1 else ''} (ICL)", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, 0].set_ylabel("temporal factor")
        fig.tight_layout()
        if path is not None:
            save_figure(fig, path, overwrite=overwrite, dpi=110)
            plt.close(fig)
        return fig


def read_connectome(path):
    """Read a dynamic-connectome results NWB file into a ConnectomeResult."""
    return ConnectomeResult.from_nwb(path)
