"""ITCH-style market data: Nasdaq TotalView-ITCH 5.0 messages over MoldUDP64.

`messages` and `framing` are the codec (shared with the client library,
`nyquestro.marketdata`); `feed` turns engine events into messages; `publisher` sends
them over UDP; `server` answers retransmission and snapshot requests over TCP; `gateway`
puts the three together for the runtime. Reference: docs/itch.md.
"""
