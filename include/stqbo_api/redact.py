"""Keep secrets out of logs, exception text and stored error bodies.

Secrets are never logged on purpose; this module is the second line of defence for text that comes from the
outside (error bodies: QuickBooks echoes part of a rejected access token in ``Token expired: AB0160...``) and
for values that flow through exception messages. Every client registers the secrets it holds (client secret,
API key, tokens as they are obtained); ``scrub`` removes those and anything shaped like a bearer or refresh
token. The registry is process-wide because a secret known to one client must not leak through another.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

REDACTED = "[redacted]"

_lock = threading.Lock()
_secrets: set[str] = set()
_listeners: list[Callable[[str], None]] = []

# Shapes of credentials that can appear in bodies even when we never registered them (for example a token
# from another process): "Token expired: <token>", "Bearer <token>", JSON/form token fields, JWTs, Intuit
# refresh tokens ("RT1-..."), Basic auth headers.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(token (?:expired|invalid|revoked)\s*:\s*)[^\s\"',;}<)]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    (re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]{8,}"), r"\1" + REDACTED),
    (
        re.compile(
            r"(?i)(?<![A-Za-z_])([\"']?(?:access_token|refresh_token|id_token|client_secret|api_key|apikey|password|token)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}"), REDACTED),
    (re.compile(r"\bRT1-[A-Za-z0-9-]{6,}"), REDACTED),
)

_MIN_SECRET_LEN = 4


def register_secret(value: str | None) -> None:
    """Remember a secret so that ``scrub`` removes it, and tell listeners (Airflow's masker) about it."""
    if not value or len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(value)
        except Exception:  # a masking hook must never break an API call
            pass


def add_listener(listener: Callable[[str], None]) -> None:
    """Call ``listener(secret)`` for every secret registered from now on and for the ones already known."""
    with _lock:
        if listener in _listeners:
            return
        _listeners.append(listener)
        known = list(_secrets)
    for value in known:
        try:
            listener(value)
        except Exception:
            pass


def scrub(text: str | None, limit: int | None = 4000) -> str | None:
    """Return ``text`` with every known secret and token-shaped value replaced, cut to ``limit`` characters."""
    if text is None:
        return None
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "...[truncated]"
    return text
