"""Encodings of commands and events for the outside world (JSON lines today)."""
