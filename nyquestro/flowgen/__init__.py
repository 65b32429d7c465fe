"""Synthetic order flow for a running venue (`nyquestro flow`): seeded, a realistic mix of
requests from many accounts over several FIX sessions, at a target rate.

`model.py` decides each request (sans-IO: a seed and the venue's answers in, requests
out); `driver.py` sends them over FIX, paced, and counts what came back.
"""
