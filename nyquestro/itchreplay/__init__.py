"""Replaying a Nasdaq TotalView-ITCH 5.0 file into a running venue, as one FIX session's
orders, so a QA engineer's own orders meet a real day's book (`nyquestro itch replay`).

`files.py` reads the file, `translate.py` (sans-IO) turns its order messages into FIX
requests and keeps the replayed orders in step with what the venue reports, and
`player.py` paces them over a FIX connection.
"""
