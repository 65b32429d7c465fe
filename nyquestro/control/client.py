"""A control-plane client: a channel, the generated stub, and the token sent with every call.

with ControlClient("127.0.0.1:9881", token) as client:
    client.stub.Halt(pb.HaltRequest(symbol="AAPL"), **client.call())
"""

from types import TracebackType
from typing import Any

import grpc

from nyquestro.control import control_pb2_grpc

_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


class ControlClient:
    def __init__(self, address: str, token: str, timeout: float = 15.0) -> None:
        """`timeout`: seconds a unary call may take (an action waits for the venue to
        commit it)."""
        self.address = address
        # Retry a lost venue every second or two, not grpc's default of up to two minutes:
        # a venue restarting is back within seconds, and its clients should be too.
        self._channel = grpc.insecure_channel(address, options=_RECONNECT)
        self.stub = control_pb2_grpc.ControlStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._timeout = timeout

    def call(self, timeout: float | None = None) -> dict[str, Any]:
        """Keyword arguments for a unary call: the token, and the timeout (None: this
        client's)."""
        return {"metadata": self._metadata, "timeout": timeout or self._timeout}

    def stream(self) -> dict[str, Any]:
        """Keyword arguments for a streaming call: the token, and no deadline."""
        return {"metadata": self._metadata}

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "ControlClient":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()
