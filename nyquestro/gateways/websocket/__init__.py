"""The WebSocket bridge: market data, trades and own orders as JSON, orders in, and a
demo page (docs/websocket.md).

- `protocol`: JSON text ⇄ request and message values, version 1 (pure).
- `bridge`: the book view folded under the sequencer's lock, and the fan-out to clients
  on the asyncio loop, which never blocks the venue.
- `server`: the websockets server on its own thread, serving the static demo page too.
"""
