"""Identifier and value types.

`NewType` gives each identifier kind its own static type (mypy refuses an `Account`
where a `Symbol` is expected) at zero run-time cost: the engine's hot path handles
plain `int`/`str` objects. See docs/adr/0002-ticks-and-value-types.md.
"""

from typing import NewType

OrderId = NewType("OrderId", int)
"""Engine-assigned, strictly increasing across all symbols."""

TradeId = NewType("TradeId", int)
"""Engine-assigned, strictly increasing across all symbols."""

ClOrdId = NewType("ClOrdId", str)
"""Client-assigned order id, unique within its session."""

Symbol = NewType("Symbol", str)
Account = NewType("Account", str)
SessionKey = NewType("SessionKey", str)
"""The gateway session a command came from (for FIX: BeginString:Sender->Target)."""

SmpId = NewType("SmpId", str)
"""Explicit self-match-prevention group; orders without one are grouped by account."""

Px = NewType("Px", int)
"""A price in integer ticks of its instrument. Never a float."""

Qty = NewType("Qty", int)
"""A quantity in units (shares, contracts)."""

Ts = NewType("Ts", int)
"""Nanoseconds since the Unix epoch, stamped by whoever feeds the engine."""

Seq = NewType("Seq", int)
"""Engine sequence number, assigned by the sequencer before a command is journaled."""
