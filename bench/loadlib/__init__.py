"""The parts of `bench/load.py`: the offered load, the fake CAMS's process, FC instances as processes,
and the report."""
