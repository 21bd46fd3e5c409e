"""Request and response helpers shared by the API routes and the admin routes."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from simulators.synchroteam.errors import ApiError, bad_request
from simulators.synchroteam.gateway import json_bytes

JSON_TYPES = ("application/json", "text/json")


def respond(request: Request, payload: Any, status: int = 200) -> Response:
    """JSON in the flavour the client asked for (`text/json` if it prefers it), UTF-8."""
    accept = (request.headers.get("accept") or "").lower()
    flavour = "text/json" if "text/json" in accept and "application/json" not in accept else "application/json"
    return Response(json_bytes(payload), status_code=status, media_type=f"{flavour}; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


async def read_json(request: Request, required: bool) -> Any:
    """The JSON body; a non-JSON content type is a 406 (the reference's 'not JSON'), bad JSON a 400."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise bad_request("A JSON body is required")
        return None
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise ApiError(406, "The body must be sent as application/json or text/json")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"The body is not valid JSON: {exc}") from exc


async def list_params(request: Request) -> dict[str, str]:
    """List filters from the query string, overridden by a JSON body when the list is POSTed."""
    params = dict(request.query_params)
    if request.method == "POST":
        body = await read_json(request, required=False)
        if body is not None and not isinstance(body, dict):
            raise bad_request("The filter body must be a JSON object")
        for key, value in (body or {}).items():
            if value is not None:
                params[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return params


async def body_of(request: Request) -> Any:
    """Admin bodies: any content type, empty means `{}`."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"The body is not valid JSON: {exc}") from exc
