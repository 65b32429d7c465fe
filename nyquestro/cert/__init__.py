"""Certification packs: scripted FIX conversations a QA engineer runs against a venue.

A pack (TOML, `pack.py`) names client sessions and scenarios; each scenario is a list of
steps (send, expect, wait, act on the venue). `runner.py` plays them through our own FIX
client (`session.py` on `codec/fix_wire.py`: sans-IO, so it can send what a conforming engine would
refuse to) and `report.py` writes what happened for people (rich), CI (JUnit XML) and a
one-page HTML report.
"""
