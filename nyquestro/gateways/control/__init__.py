"""The control plane: watch and steer a running venue over gRPC (docs/control-plane.md).

- `view`: what the committed stream tells of the venue, folded in the follower's lock.
- `service`: the gRPC service of `nyquestro/control/control.proto`: queries of that view
  and of the store, the event stream, and actions as operator requests.
"""
