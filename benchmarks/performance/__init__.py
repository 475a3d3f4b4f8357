"""Performance benchmark: how close heron runs to the speed of reading the VCF (spec: benchmark.md B)."""
