"""HOST:PORT on the command line."""

import argparse


def host_port(text: str) -> tuple[str, int]:
    """("127.0.0.1", 9878) from "127.0.0.1:9878"; argparse says what is wrong otherwise."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:9878")
    return host, int(port)
