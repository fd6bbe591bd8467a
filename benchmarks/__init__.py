"""The course's benchmarks: tracking overhead, per-child-run cost, scale, parallel tuning, reproducibility.

Full runs (`make bench`) write `benchmarks/results/<name>.json`; `--quick` runs write to `build/bench/` so the CI
smoke test never overwrites published numbers; `python -m benchmarks report` renders `docs/benchmarks.md`.
"""
