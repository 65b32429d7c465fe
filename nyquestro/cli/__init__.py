"""Command-line entry points (`nyquestro ...`)."""
