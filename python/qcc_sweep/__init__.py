"""qcc-sweep: run model x method x target x eval sweeps with qcc's tools, render tables and
Pareto plots (docs/Sweep.md)."""

SCHEMA_VERSION = 1
