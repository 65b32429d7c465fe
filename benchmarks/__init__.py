"""Performance benchmarks. Not part of the installed package; run from the repository root."""
