"""Configuration files read by the runtime and the CLI (never by the engine)."""
