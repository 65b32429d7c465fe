"""Wiring: the sequencer (the single writer), clocks, and the `serve` process."""
