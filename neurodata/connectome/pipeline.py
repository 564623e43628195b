"""The dynamic functional connectome of Dyballa et al. (2024): affinities → NTF → weighted-SBM communities.

    Dyballa L, Lang S, Haslund-Gourley A, Yemini E, Zucker SW (2024). Learning dynamic representations of the
    functional connectome in neurobiological networks. ICLR 2024. arXiv:2402.14102.

The defaults below are the single source of this method's settings; ``models/dyballa_2024_connectome.json``
documents each of them (and every choice the paper leaves open).
"""
import numbers

import numpy as np

from ..base import Estimator
from ..errors import InvalidInputError
from ..utils import check_option, check_random_state, check_scalar, logger, progress
from .affinity import pairs_to_matrix
from .ntf import NTF
from .result import ConnectomeResult
from .sbm import WeightedSBM
from .tensor import as_traces, build_affinity_tensor


class DynamicConnectome(Estimator):
    """Dynamic functional connectome: time-resolved affinities, NTF components, communities per component.

    Parameters
    ----------
    rank : int or "auto"
        Number of NTF components ("auto": chosen in ``rank_range`` by error and stability).
    rank_range : (int, int)
        Ranks tried when ``rank="auto"``.
    smooth : float
        SD (s) of the Gaussian smoothing applied before differentiating the traces.
    window : float
        SD (s) of the Gaussian window of the local derivative correlation.
    z : float
        Null SDs a local correlation must exceed to count as affinity.
    resolution : float or None
        Spacing (s) of the affinity time samples; None keeps every frame.
    min_present : float in (0, 1]
        Missing frames (NaN): a pair's affinity over a window is computed from the frames where both neurons
        are present, and is missing (NaN in the tensor, left out by the masked NTF) when these carry less
        than this fraction of the window's weight.
    n_restarts, n_iter_max, tol, stability_threshold, min_improvement
        Passed to :class:`~neurodata.connectome.ntf.NTF`.
    max_blocks, sbm_n_init : int
        Passed to :class:`~neurodata.connectome.sbm.WeightedSBM` (``n_blocks="auto"``, degree correction
        and number of blocks chosen by description length, nested prior).
    edge_fraction : float
        A pair is an edge of a component's graph when its affinity loading exceeds this fraction of the
        component's largest loading (NTF leaves a floor of tiny positive loadings on unrelated pairs).
    dtype : "float32" or "float64"
        Precision of the affinity tensor (float32 halves the memory of whole-brain tensors).
    chunk_pairs : int
        Pairs per affinity chunk (bounds the working memory).
    seed : None, int or numpy.random.Generator
    verbose : bool

    Attributes
    ----------
    result_ : ConnectomeResult
        Factors, partitions and parameters (``to_nwb``, ``plot``).
    ntf_ : NTF
        The fitted tensor factorization.
    sbms_ : list of WeightedSBM
        One fitted weighted SBM per component, on the neurons with at least one edge in it (the others join
        the last, most weakly bound block of ``result_.partitions``).
    tensor_shape_ : tuple
        (time windows, animals, neuron pairs) of the affinity tensor.
    missing_fraction_ : float
        Fraction of the tensor's entries that were missing (NaN): windows with too few frames present and the
        pairs of neurons an animal lacks.

    Notes
    -----
    Missing data (issue 30). Neurons are matched across animals by label and their union is kept: the pairs
    of a neuron that an animal lacks (not labelled there, or its trace all NaN) are missing in that animal's
    slice of the tensor, so such a neuron gets its affinity loadings, and its communities, from the animals
    that have it. NaN frames make the affinity windows that hold too few frames missing (``min_present``);
    recordings shorter than the longest are missing after their end. The NTF fits the observed entries only.
    """

    def __init__(self, *, rank="auto", rank_range=(1, 8), smooth=0.2, window=3.0, z=2.5, resolution=0.5,
                 min_present=0.5, n_restarts=6, n_iter_max=500, tol=1e-5, stability_threshold=0.9, min_improvement=0.05,
                 max_blocks=10, sbm_n_init=5, edge_fraction=0.05, dtype="float32", chunk_pairs=4096,
                 seed=None, verbose=False):
        self._keep(locals())

    def _validate(self):
        name = type(self).__name__
        check_scalar(self.smooth, "smooth", name, low=0.0, low_inclusive=False)
        check_scalar(self.window, "window", name, low=0.0, low_inclusive=False)
        check_scalar(self.z, "z", name, low=0.0)
        if self.resolution is not None:
            check_scalar(self.resolution, "resolution", name, low=0.0, low_inclusive=False)
        check_scalar(self.min_present, "min_present", name, low=0.0, low_inclusive=False, high=1.0)
        check_scalar(self.edge_fraction, "edge_fraction", name, low=0.0, high=1.0, high_inclusive=False)
        check_option(self.dtype, "dtype", ("float32", "float64"))
        check_scalar(self.chunk_pairs, "chunk_pairs", name, kind=numbers.Integral, low=1)

    def fit(self, recordings, y=None, *, rate=None, animal_names=None):
        """Fit to one or several recordings of the same protocol (one per animal).

        Parameters
        ----------
        recordings : Traces, NWB path, array (time × neurons) or a list of these
            One recording per animal. Neurons are matched across animals by their labels
            (``Traces.channels``; NWB ROI ids; an array's column numbers) and their union is kept: an animal
            may lack some (see Notes). NaN marks frames not recorded (``Traces(..., missing=True)``).
        y : None
            Ignored (scikit-learn convention).
        rate : float, optional
            Frame rate (Hz) of array recordings.
        animal_names : list of str, optional
            One name per recording (default: file stems, Traces names, or animal0, animal1, ...).

        Returns
        -------
        self : DynamicConnectome

        Raises
        ------
        InvalidInputError
            Bad hyper-parameters or recordings, a recording with every frame missing, a neuron pair that no
            animal records together, or no affinity above chance anywhere.
        """
        self._validate()
        if isinstance(recordings, (list, tuple)):
            recs = list(recordings)
        else:
            recs = [recordings]
        if not recs:
            raise InvalidInputError("recordings is empty; give at least one recording.")
        traces = [as_traces(r, rate=rate, name=f"animal{a}") for a, r in enumerate(recs)]
        if animal_names is None:  # file stems for paths, else the Traces' names when they tell animals apart
            from pathlib import Path

            names = [Path(r).stem if isinstance(r, (str, Path)) else tr.name for r, tr in zip(recs, traces)]
            animal_names = names if len(set(names)) == len(names) else [f"animal{a}" for a in range(len(recs))]
        animal_names = [str(a) for a in animal_names]
        if len(animal_names) != len(traces):
            raise InvalidInputError(f"{len(animal_names)} animal names for {len(traces)} recordings.")
        rng = check_random_state(self.seed)
        tensor, times, labels, frame_rate = build_affinity_tensor(
            traces, smooth=self.smooth, window=self.window, z=self.z, resolution=self.resolution,
            dtype=np.dtype(self.dtype), chunk_pairs=self.chunk_pairs, min_present=self.min_present,
            verbose=self.verbose)
        if not np.any(tensor > 0):
            raise InvalidInputError("No pair of neurons has any affinity above chance (the tensor is all zeros); "
                                    "lower z or lengthen window.")
        self.tensor_shape_ = tensor.shape
        n_missing = int(np.count_nonzero(np.isnan(tensor)))
        self.missing_fraction_ = n_missing / tensor.size
        logger.info("affinity tensor %s (time × animals × pairs), %.1f%% non-zero, %.1f%% missing", tensor.shape,
                    100 * (np.count_nonzero(tensor > 0)) / tensor.size, 100 * self.missing_fraction_)
        self.ntf_ = NTF(rank=self.rank, rank_range=self.rank_range, n_restarts=self.n_restarts,
                        n_iter_max=self.n_iter_max, tol=self.tol, stability_threshold=self.stability_threshold,
                        min_improvement=self.min_improvement, seed=rng, verbose=self.verbose).fit(tensor)
        del tensor
        n = len(labels)
        self.sbms_, partitions, n_blocks = [], [], []
        for k in progress(range(self.ntf_.rank_), desc="communities", verbose=self.verbose):
            graph = pairs_to_matrix(self.ntf_.factors_[2][:, k], n)
            threshold = self.edge_fraction * float(graph.max())
            sbm = WeightedSBM(n_blocks="auto", max_blocks=self.max_blocks, n_init=self.sbm_n_init,
                              edge_threshold=threshold, seed=rng)
            # Neurons with no edge in this component carry no information about its communities, and a
            # degree-corrected SBM explains them by a zero degree inside any block: the SBM is fitted on the
            # others, and they join its most weakly bound block (the background; blocks are ordered by
            # binding), or form a block of their own when the others are one block.
            linked = np.flatnonzero((graph > threshold).any(axis=1))
            if 2 <= linked.size < n:
                sbm.fit(graph[np.ix_(linked, linked)])
                background = sbm.n_blocks_ - 1 if sbm.n_blocks_ > 1 else 1
                part = np.full(n, background)
                part[linked] = sbm.labels_
                blocks = max(sbm.n_blocks_, 2)
            else:
                part, blocks = sbm.fit(graph).labels_, sbm.n_blocks_
            self.sbms_.append(sbm)
            partitions.append(part)
            n_blocks.append(blocks)
        params = {k: v for k, v in self.get_params().items() if k != "verbose"}  # progress display is no setting
        params["seed"] = self.seed if isinstance(self.seed, (int, type(None))) else "generator"
        params["rank_range"] = list(self.rank_range)
        params["frame_rate"] = frame_rate
        self.result_ = ConnectomeResult(
            weights=self.ntf_.weights_, temporal=self.ntf_.factors_[0], animal=self.ntf_.factors_[1],
            affinity=self.ntf_.factors_[2], times=times, neuron_labels=labels, animal_names=animal_names,
            partitions=np.array(partitions), n_blocks=np.array(n_blocks),
            description_length=np.array([s.description_length_ for s in self.sbms_]), rank_scores=self.ntf_.rank_scores_,
            reconstruction_error=self.ntf_.reconstruction_error_, parameters=params)
        return self


def compute_connectome(recordings, *, rate=None, animal_names=None, **params):
    """Function form of :class:`DynamicConnectome`: fit and return the ConnectomeResult."""
    return DynamicConnectome(**params).fit(recordings, rate=rate, animal_names=animal_names).result_
