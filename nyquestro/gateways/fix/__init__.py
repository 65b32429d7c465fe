"""The FIX 4.2/4.4 gateway.

- `inbound`: FIX application message → command request, query or refusal (pure).
- `outbound`: engine event + the gateway's view of the order → FIX message (pure).
- `orders`, `marketdata`: views folded from events (pure).
- `venue`: the gateway core tying them together (pure; no sockets, no quickfix).
- `acceptor`: the quickfix adapter: sessions, callbacks, sending (all the I/O).
"""
