"""One package per paper; each registers itself from its `experiment.py`."""
