"""neurosim — the simulation layer of neurosuite (Brian2 circuits and neuron models).

Brian2 and torch are imported by the modules that need them, never here.
"""
__version__ = "0.1.0"
