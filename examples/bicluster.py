"""Bi-cluster neurons and time bins of the paper's own simulated draw (Wei 2023) and save NWB results + a figure."""
from pathlib import Path

from demo_steps.bicluster import demo

if __name__ == "__main__":
    files = demo(Path("out") / "bicluster", quick=True)
    print(files)
