"""Gateways translate between wire protocols and engine commands/events.

They depend on the domain and the codecs, get a submit function from the runtime, and
never touch engine internals (enforced by import-linter).
"""
