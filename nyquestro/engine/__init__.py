"""The engine core: order books, matching, self-match prevention, pegs.

Pure by construction (enforced by import-linter): no sockets, threads, clocks, files or
databases. Commands go in through `Engine.process`, immutable events come out, and the
same commands always produce the same events.

Ownership: an `Engine` instance has exactly one writer. Whoever owns it (the sequencer in
the runtime, a test, the JSON CLI) must call `process` from one thread at a time; nothing
here locks. Gateways never see engine internals, only the events.
"""

from nyquestro.engine.engine import STATE_SCHEMA, Engine, EngineState, OrderView

__all__ = ["STATE_SCHEMA", "Engine", "EngineState", "OrderView"]
