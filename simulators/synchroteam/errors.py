"""The one error type of the simulator: anything that must reach the client as ``{"code", "message"}``."""

from __future__ import annotations


class ApiError(Exception):
    """An HTTP error answered with Synchroteam's JSON error body; ``headers`` are added to the response."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"code": self.status, "message": self.message}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)
