"""A webhook receiver for tests: checks the signature, honours the idempotency key, and
can fail the first N requests or hold a request until the sender is killed."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.workflows.channels import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Receiver:
    secret: str
    fail_first: int = 0
    always_fail: bool = False
    hold_first_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: idempotency key -> body, each key once (what the receiver acted on).
    accepted: dict[str, bytes] = field(default_factory=dict)
    first_arrived: threading.Event = field(default_factory=threading.Event)

    def app(self) -> Starlette:
        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            key = request.headers.get(IDEMPOTENCY_HEADER, "")
            valid = verify(
                self.secret, request.headers.get(TIMESTAMP_HEADER, ""), body,
                request.headers.get(SIGNATURE_HEADER, ""), now=time.time(), tolerance_s=300,
            )  # fmt: skip
            self.requests.append(
                {"key": key, "valid": valid, "body": body, "path": request.url.path}
            )
            number = len(self.requests)
            if not valid:
                return JSONResponse({"error": "bad signature"}, status_code=401)
            if self.always_fail or number <= self.fail_first:
                return JSONResponse({"error": "try later"}, status_code=503)
            duplicate = key in self.accepted
            self.accepted.setdefault(key, body)
            if number == 1 and self.hold_first_s:
                self.first_arrived.set()  # acted on it; the sender dies before the answer
                await asyncio.sleep(self.hold_first_s)
            return JSONResponse({"duplicate": duplicate})

        return Starlette(routes=[Route("/{name:path}", hook, methods=["POST"])])
