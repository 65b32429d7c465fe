"""Client library for Nyquestro's ITCH feed: decode MoldUDP64/ITCH (the codec in
`nyquestro.gateways.itch`), rebuild the order-level book, detect gaps by sequence number
and recover them from the request server, by retransmission or by a book snapshot.

It never imports the engine, the runtime or the store (an import-linter contract says
so): it knows the venue only through the bytes it publishes.
"""
