"""Ground-truth generators: simulated data with planted structure, used to validate neurodata's analyses."""
