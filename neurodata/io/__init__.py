"""The NWB spine: read recordings and MNE data into a few time-aware objects; write simulations and results."""
from .nwb import (Results, add_results_in_place, info, open_nwb, read_behavior, read_intervals, read_mne, read_results, read_spikes,
                  read_traces, sha256, write_results, write_simulation)
from .objects import Intervals, SpikeTrains, Traces


def bin_spikes(spikes, bin_size, start=None, end=None):
    """Counts (time bins × units) of ``spikes`` (SpikeTrains or an NWB path); same as ``SpikeTrains.count``."""
    if not isinstance(spikes, SpikeTrains):
        spikes = read_spikes(spikes)
    return spikes.count(bin_size, start, end)


__all__ = ["Intervals", "Results", "add_results_in_place", "SpikeTrains", "Traces", "bin_spikes", "info", "open_nwb", "read_behavior",
           "read_intervals", "read_mne", "read_results", "read_spikes", "read_traces", "sha256", "write_results",
           "write_simulation"]
