"""Retries, backoff and client-side rate limits shared by both API clients (no Airflow here).

Every transport problem is solved here once:

* ``RetryPolicy``: at most 5 attempts, exponential backoff from 0.5 s capped at 30 s with *full jitter*
  (a uniform delay in [0, cap]) so that parallel workers do not retry in lock-step; a ``Retry-After`` from the
  server wins (capped at 120 s). A throttled request (429) without ``Retry-After`` - what QuickBooks sends - gets
  more attempts and a slower schedule (2, 4, 8 ... 60 s with equal jitter, about 1.5 to 3 minutes in all), so it
  outlasts a per-minute window instead of spending its retries in seconds. ``sleep`` and ``random`` are
  injectable so tests run without waiting.
* ``SlidingWindowLimiter`` and ``RealmLimits``: QuickBooks allows 10 requests/second, 500 requests/min,
  10 concurrent requests and 40 batch requests/min per realm. The limiters live in a process-wide registry keyed by realm, so every client
  and thread of one process shares them. They are **per process**: two Celery workers (or two task processes of
  LocalExecutor) each get the full budget, so with N parallel tasks against one realm the server may still
  answer 429; that is why 429 is also handled by retrying with ``Retry-After``. Keep the DAG's task concurrency
  per realm at one (``max_active_runs=1`` plus one API task at a time) or lower the limits with N.
* ``Transport.request``: sends one logical call, retrying only retriable failures. A request that is not
  idempotent is retried only when it certainly did not reach the server (connect errors, 429); QuickBooks
  writes are idempotent because they carry a ``requestid`` that is reused on every attempt.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from stqbo_api.errors import ApiError, FatalApiError, RetriableApiError

log = logging.getLogger(__name__)

# "10 a second" is counted on QuickBooks' side, on arrival: requests spaced by our clock can still land 11 in one of
# its seconds (network jitter), so the client counts 10 per 1.2 s. Sustained, 500 a minute is slower anyway.
PER_SECOND_WINDOW = 1.2
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0


@dataclass
class RetryPolicy:
    """How often and how long to wait before trying a retriable failure again."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0
    throttle_attempts: int = 8
    throttle_base: float = 2.0
    throttle_cap: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None = None, throttled: bool = False) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_cap))
        if throttled:   # never near zero: a retry at once would only be throttled again
            ceiling = min(self.throttle_cap, self.throttle_base * (2 ** (attempt - 1)))
            return ceiling * (0.5 + 0.5 * self.random())
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return self.random() * ceiling

    def attempts(self, throttled: bool) -> int:
        return max(self.max_attempts, self.throttle_attempts) if throttled else self.max_attempts


class SlidingWindowLimiter:
    """At most ``limit`` acquisitions in any ``window`` seconds; ``acquire`` blocks until one is free."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, count: int = 1) -> float:
        """Take ``count`` slots (a batch counts each item); returns the seconds spent waiting.

        A limit of 0 or less means unlimited; a count above the limit is clamped to it.
        """
        if self.limit <= 0:
            return 0.0
        count = max(1, min(count, self.limit))
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._stamps and self._stamps[0] <= now - self.window:
                    self._stamps.popleft()
                if len(self._stamps) + count <= self.limit:
                    self._stamps.extend([now] * count)
                    return waited
                wait = self._stamps[len(self._stamps) + count - self.limit - 1] + self.window - now
            log.info("Client-side rate limit reached (%s per %.0f s); waiting %.1f s", self.limit, self.window, wait)
            self._sleep(max(wait, 0.01))
            waited += wait


class _Unlimited:
    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        return None


@dataclass
class RealmLimits:
    """The limits of one QuickBooks realm (or one Synchroteam domain) inside this process."""

    requests: SlidingWindowLimiter
    batches: SlidingWindowLimiter
    concurrency: Any = field(default_factory=_Unlimited)
    per_second: SlidingWindowLimiter | None = None

    @contextlib.contextmanager
    def slot(self, batch: bool = False, weight: int = 1) -> Iterator[None]:
        """Hold one concurrent-request slot while a request is in flight; ``weight`` = items of a batch."""
        if batch:
            self.batches.acquire()
        self.requests.acquire(weight)
        if self.per_second is not None:
            self.per_second.acquire(weight)
        self.concurrency.acquire()
        try:
            yield
        finally:
            self.concurrency.release()


_registry: dict[tuple[str, str], RealmLimits] = {}
_registry_lock = threading.Lock()


def limits_for(
    api: str,
    key: str,
    *,
    requests_per_minute: int = 500,
    requests_per_second: int = 10,
    concurrent: int = 10,
    batch_per_minute: int = 40,
) -> RealmLimits:
    """The process-wide limits for ``(api, key)``; created on first use with the given numbers."""
    with _registry_lock:
        found = _registry.get((api, key))
        if found is None:
            found = RealmLimits(
                requests=SlidingWindowLimiter(requests_per_minute),
                batches=SlidingWindowLimiter(batch_per_minute),
                concurrency=threading.BoundedSemaphore(concurrent) if concurrent > 0 else _Unlimited(),
                per_second=(SlidingWindowLimiter(requests_per_second, window=PER_SECOND_WINDOW)
                            if requests_per_second > 0 else None),
            )
            _registry[(api, key)] = found
        return found


def reset_limits() -> None:
    """Forget every limiter (tests)."""
    with _registry_lock:
        _registry.clear()


# ------------------------------------------------------------------------------------------------ requests


Classifier = Callable[[requests.Response], ApiError | None]
_CONFIG_ERRORS = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
)


def _sent_nothing(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (so even a non-idempotent retry is safe)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc.args[0]) if exc.args else ""
        return "NewConnectionError" in text or "Connection refused" in text
    return False


class Transport:
    """Sends one logical call with retries; the classifier decides what counts as a failure."""

    def __init__(
        self,
        api: str,
        session: requests.Session,
        classify: Classifier,
        policy: RetryPolicy | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.api = api
        self.session = session
        self.classify = classify
        self.policy = policy or RetryPolicy()
        self.timeout = (connect_timeout, read_timeout)

    def request(
        self,
        method: str,
        url: str,
        *,
        describe: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Callable[[], Mapping[str, str]] | None = None,
        gate: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
        after: Callable[[requests.Response], None] | None = None,
        idempotent: bool = True,
        request_id: str | None = None,
        auth: Any = None,
    ) -> requests.Response:
        """Send until success, a fatal error, or the last attempt; ``describe`` is a secret-free label for logs."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(method, url, params, json, data, headers, gate, after, request_id, auth)
            except RetriableApiError as err:
                if not self._should_retry(err, attempt, idempotent):
                    raise
                throttled = err.status == 429
                wait = self.policy.delay(attempt, err.retry_after, throttled=throttled)
                log.warning(
                    "%s %s failed (%s); attempt %d of %d, retrying in %.2f s",
                    self.api, describe, _short(err), attempt, self.policy.attempts(throttled), wait,
                )
                self.policy.sleep(wait)

    def _should_retry(self, err: RetriableApiError, attempt: int, idempotent: bool) -> bool:
        if attempt >= self.policy.attempts(throttled=err.status == 429):
            return False
        return idempotent or err.sent_nothing or err.status == 429

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        headers: Callable[[], Mapping[str, str]] | None,
        gate: Callable[[], contextlib.AbstractContextManager[Any]] | None,
        after: Callable[[requests.Response], None] | None,
        request_id: str | None,
        auth: Any = None,
    ) -> requests.Response:
        with gate() if gate else contextlib.nullcontext():
            try:
                resp = self.session.request(
                    method, url, params=params, json=json, data=data,
                    headers=dict(headers()) if headers else None, timeout=self.timeout, auth=auth,
                )
            except requests.RequestException as exc:
                raise self._transport_error(exc, request_id) from None
        if after:
            after(resp)
        error = self.classify(resp)
        if error is not None:
            error.request_id = error.request_id or request_id
            raise error
        return resp

    def _transport_error(self, exc: requests.RequestException, request_id: str | None) -> ApiError:
        if isinstance(exc, _CONFIG_ERRORS):
            return FatalApiError(
                f"The {self.api} connection is misconfigured ({type(exc).__name__}): check its host / base URL",
                api=self.api, code=type(exc).__name__, request_id=request_id,
            )
        if isinstance(exc, requests.Timeout):
            kind = "timed out"
        elif isinstance(exc, requests.ConnectionError):
            kind = "lost the connection"
        else:
            kind = f"failed ({type(exc).__name__})"
        return RetriableApiError(
            f"The request to {self.api} {kind}; the reply (if any) was lost",
            api=self.api, code=type(exc).__name__, request_id=request_id, sent_nothing=_sent_nothing(exc),
        )


def _short(err: ApiError) -> str:
    parts = [p for p in (f"HTTP {err.status}" if err.status else None, err.code) if p]
    return ", ".join(parts) or type(err).__name__
