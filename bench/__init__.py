"""Benchmarks: scripts that print figures, each with a ratio to a baseline measured in the same
run. Run one with `python -m bench.<name>` (or `python bench/<name>.py`), all of them with
`python -m bench.run_all`; see docs/benchmarks.md. Nothing here is part of the test suite."""
