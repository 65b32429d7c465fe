"""What a pack's `venue` steps ask of the venue: an action through its control plane, or
a restart of a venue this run started itself (`launch.py`)."""

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import grpc
from google.protobuf.descriptor import FieldDescriptor

from nyquestro.control import control_pb2 as pb
from nyquestro.control.client import ControlClient

ArgValue = str | int | bool

RPCS: dict[str, tuple[str, Callable[..., Any]]] = {
    "halt": ("Halt", pb.HaltRequest),
    "resume": ("Resume", pb.ResumeRequest),
    "kill_switch": ("SetKillSwitch", pb.SetKillSwitchRequest),
    "mass_cancel": ("MassCancel", pb.MassCancelRequest),
    "cancel_order": ("CancelOrder", pb.CancelOrderRequest),
    "set_limit": ("SetLimit", pb.SetLimitRequest),
    "risk_check": ("SetRiskCheck", pb.SetRiskCheckRequest),
    "logout": ("ForceLogout", pb.ForceLogoutRequest),
    "reset_sequence": ("ResetSequence", pb.ResetSequenceRequest),
    "fault": ("InjectFault", pb.InjectFaultRequest),
    "bust_trade": ("BustTrade", pb.BustTradeRequest),
    "correct_trade": ("CorrectTrade", pb.CorrectTradeRequest),
}
"""A `venue` step's action → the control plane's call and its request; the step's args are
the request's fields by name (docs/control-plane.md)."""


class VenueActionError(RuntimeError):
    """The venue refused the action, or it cannot be done here (the text says which)."""


class VenueControl(Protocol):
    def fix_address(self) -> tuple[str, int]: ...
    def act(self, action: str, args: Mapping[str, ArgValue]) -> str: ...


class ControlPlane:
    """A running venue: FIX at `address`, actions through the control plane at `control`
    (None: the pack's venue steps fail saying what is missing)."""

    def __init__(self, address: tuple[str, int], control: ControlClient | None) -> None:
        self._address = address
        self._control = control

    def fix_address(self) -> tuple[str, int]:
        return self._address

    def act(self, action: str, args: Mapping[str, ArgValue]) -> str:
        if action == "restart":
            raise VenueActionError(
                "a restart needs a venue this run started (run without --target)"
            )
        if self._control is None:
            raise VenueActionError(
                f'`venue = "{action}"` needs the venue\'s control plane: '
                "--control HOST:PORT and --token (or $NYQUESTRO_OPERATOR_TOKEN)"
            )
        method, request_type = RPCS[action]
        try:
            request = request_type(**_typed(request_type, args))
        except (TypeError, ValueError) as exc:
            raise VenueActionError(f'args of `venue = "{action}"`: {exc}') from exc
        try:
            answer = getattr(self._control.stub, method)(request, **self._control.call())
        except grpc.RpcError as exc:
            code = exc.code()
            name = code.name if code is not None else "UNKNOWN"
            raise VenueActionError(f"the control plane refused {action}: {name}: "
                                   f"{exc.details()}") from exc  # fmt: skip
        return str(answer.summary)

    def close(self) -> None:
        if self._control is not None:
            self._control.close()


_INTEGERS = frozenset({
    FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_INT64,
    FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64,
})  # fmt: skip


def _typed(request_type: Any, args: Mapping[str, ArgValue]) -> dict[str, ArgValue]:
    """`args` with whole numbers written as text (a `${order_id}` captured from a FIX
    field is text) made numbers where the request's field is an integer."""
    fields = request_type.DESCRIPTOR.fields_by_name
    return {
        key: int(value)
        if isinstance(value, str)
        and key in fields
        and fields[key].cpp_type in _INTEGERS
        and value.isdigit()
        else value
        for key, value in args.items()
    }
