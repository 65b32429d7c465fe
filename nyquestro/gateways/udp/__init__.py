"""Binary UDP order entry.

`frames` is the wire format (byte-by-byte reference in its docstring), `orders` turns
requests into commands and events into replies and keeps the retry windows (idempotency,
loss and reordering are described there), `worker` is one of the processes that share the
port with SO_REUSEPORT, `relay` the records between a worker and the venue, `gateway` the
venue-process side (why replies leave through the workers), `client` a small client.
"""
