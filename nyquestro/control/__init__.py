"""The control plane's wire contract: `control.proto` and the modules generated from it.

The generated modules are checked in, so the venue and its clients need only `grpcio` and
`protobuf` at run time. After changing the proto, regenerate them from the repository's
root (grpcio-tools and mypy-protobuf are dev dependencies, pinned so the output is the
same on every machine; tests/control/test_generated.py fails while they are stale):

    python -m nyquestro.control.generate
"""
