"""`nyquestro-tui`: watch and steer a running venue from a terminal (docs/tui.md).

- `model`: orders, fills and figures folded from the control plane (no Textual).
- `feed`: the threads that follow the event stream and poll, reconnecting by themselves.
- `app`: the Textual app that lays them out and asks before each action.
"""
