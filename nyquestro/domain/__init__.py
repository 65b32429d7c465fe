"""Domain vocabulary shared by every layer: identifiers, values, commands, events.

Nothing in here performs I/O, reads a clock or keeps mutable state.
"""
