"""The response headers the API's operations document (cache validators, rate limits), for
the OpenAPI document (`app.api.openapi`): SpecTree cannot declare response headers itself."""

from __future__ import annotations

from typing import Any

from app.api.schemas import N_

HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "Cache-Control": {
        "description": N_("public, max-age=300: any cache may keep the answer five minutes."),
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": N_("The answer's version: send it back in If-None-Match."),
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": N_("Seconds to wait before the next request."),
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Limit": {
        "description": N_("Requests allowed in the current window."),
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": N_("Requests left in the current window."),
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": N_("When the window ends, in seconds since the epoch."),
        "schema": {"type": "integer"},
    },
}
CACHE_HEADERS = ("Cache-Control", "ETag")
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
