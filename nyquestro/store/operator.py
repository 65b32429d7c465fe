"""The operator's queue to the running venue: the CLI appends, the venue polls."""

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select

from nyquestro.store.models import OperatorRequest


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    kind: str
    params: dict[str, Any]


def queue_request(engine: Engine, kind: str, params: dict[str, Any]) -> int:
    """Append a request; returns its id."""
    with engine.begin() as connection:
        result = connection.execute(
            insert(OperatorRequest).values(
                ts=time.time_ns(), kind=kind, payload=json.dumps(params, sort_keys=True)
            )
        )
        (request_id,) = result.inserted_primary_key or (0,)
    return int(request_id)


def requests_after(engine: Engine, after_id: int) -> list[Request]:
    """Requests newer than `after_id`, oldest first."""
    query = (
        select(OperatorRequest.id, OperatorRequest.kind, OperatorRequest.payload)
        .where(OperatorRequest.id > after_id)
        .order_by(OperatorRequest.id)
    )
    with engine.connect() as connection:
        return [Request(i, kind, json.loads(p)) for i, kind, p in connection.execute(query)]
