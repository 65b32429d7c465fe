"""The local bus between the core process and the gateway processes (issue 13, ADR 0011)."""
