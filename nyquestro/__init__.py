"""Nyquestro: a deterministic FIX exchange simulator.

Gateways translate, the engine decides, the journal remembers.
"""

__version__ = "0.1.0"
