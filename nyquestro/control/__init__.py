"""The control plane's wire contract: `control.proto` and the modules generated from it.

The generated modules are checked in, so the venue and its clients need only `grpcio` and
`protobuf` at run time. After changing the proto, regenerate them from the repository's
root (grpcio-tools and mypy-protobuf are dev dependencies, pinned so the output is the
same on every machine; tests/control/test_generated.py fails while they are stale):

    python -m nyquestro.control.generate
"""

DEFAULT_ADDRESS = "127.0.0.1:9881"
"""The shipped demo venue's `[control]`: where clients connect unless told otherwise."""
TOKEN_VARIABLE = "NYQUESTRO_OPERATOR_TOKEN"
"""Where the operator commands and `nyquestro-tui` find a token when given none (not
NYQUESTRO_CONTROL_...: that prefix overrides the venue config's [control] table)."""
