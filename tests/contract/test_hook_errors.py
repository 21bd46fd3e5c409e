"""The error taxonomy, secret scrubbing, backoff and the client-side limiter: pure functions, no network."""

from __future__ import annotations

import json
import pickle

import pytest

from stqbo_api import errors as e
from stqbo_api.redact import REDACTED, register_secret, scrub
from stqbo_api.transport import RetryPolicy, SlidingWindowLimiter


def _fault(code: str, message: str = "m", detail: str | None = "d", key: str = "Fault") -> str:
    err = {"Message" if key == "Fault" else "message": message, "Detail" if key == "Fault" else "detail": detail,
           "code": code, "element": ""}
    return json.dumps({key: {("Error" if key == "Fault" else "error"): [err], "type": "ValidationFault"}})


THROTTLE_XML = (
    '<IntuitResponse time="2016-12-07T15:27:09.527-08:00" xmlns="http://schema.intuit.com/finance/v3">'
    '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; '
    "statusCode=429</Message><Detail>The request limit was reached.  Try again later</Detail></Error></Fault>"
    "</IntuitResponse>"
)
AUTH_XML = (
    '<Fault type="AuthenticationFault"><Error code="100"><Message>General Authentication Error</Message>'
    "<Detail>AuthenticationErrorGeneral: SRV-110-Authentication Failure , statusCode: 401</Detail></Error></Fault>"
)
GATEWAY_401 = json.dumps(
    {"warnings": None, "fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; "
     "statusCode=401", "detail": "Token expired: AB0160SECRETTOKENVALUE", "code": "3200", "element": None}],
     "type": "AUTHENTICATION"}, "time": 1601391072830}
)


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "code"),
    [
        (400, _fault("6240", detail="The name supplied already exists. : Id=58"), None, e.DuplicateNameError, "6240"),
        (400, _fault("5010"), None, e.StaleObjectError, "5010"),
        (400, _fault("610"), None, e.NotFoundError, "610"),
        (404, "", None, e.NotFoundError, None),
        (400, _fault("2050"), None, e.ValidationError, "2050"),
        (400, _fault("6140"), None, e.ValidationError, "6140"),
        (200, _fault("6000"), None, e.ValidationError, "6000"),
        (401, GATEWAY_401, None, e.AuthError, "3200"),
        (401, AUTH_XML, None, e.AuthError, "100"),
        (403, _fault("3100", key="fault"), None, e.AuthError, "3100"),
        (429, THROTTLE_XML, {"Retry-After": "7"}, e.RetriableApiError, "3001"),
        (503, "<html>Service Unavailable</html>", None, e.RetriableApiError, None),
        (500, _fault("10000"), None, e.RetriableApiError, "10000"),
        (405, "", None, e.FatalApiError, None),
    ],
    ids=["6240", "5010", "610", "404", "2050", "6140", "fault-in-200", "401-gateway", "401-xml", "403-lower",
         "429-xml", "503-html", "500-fault", "405"],
)
def test_map_quickbooks_error(status, body, headers, cls, code) -> None:
    err = e.map_quickbooks_error(status, body, headers)
    assert type(err) is cls
    assert err.code == code
    assert err.status == status
    assert err.api == "quickbooks"


def test_duplicate_name_carries_existing_id_and_retry_after_is_read() -> None:
    dup = e.map_quickbooks_error(400, _fault("6240", detail="The name supplied already exists. : Id=58"))
    assert isinstance(dup, e.DuplicateNameError) and dup.existing_id == "58"
    unknown = e.map_quickbooks_error(400, _fault("6240", detail="The name supplied already exists. : null"))
    assert isinstance(unknown, e.DuplicateNameError) and unknown.existing_id is None
    throttled = e.map_quickbooks_error(429, THROTTLE_XML, {"retry-after": "7"})
    assert isinstance(throttled, e.RetriableApiError) and throttled.retry_after == 7.0
    assert throttled.detail == "The request limit was reached.  Try again later"


def test_token_in_a_401_detail_is_scrubbed_everywhere() -> None:
    err = e.map_quickbooks_error(401, GATEWAY_401)
    for text in (str(err), repr(err), err.message, err.detail or "", err.body or ""):
        assert "AB0160SECRETTOKENVALUE" not in text
    assert "reconnect" in err.message


def test_oauth_invalid_grant_says_how_to_reauthorise() -> None:
    err = e.map_oauth_error(400, json.dumps({"error_description": "Token invalid", "error": "invalid_grant"}))
    assert isinstance(err, e.ReauthorizationRequired) and isinstance(err, e.AuthError)
    assert "re-authorised" in err.message and "make connect" in err.message and "docs/operating.md" in err.message
    assert isinstance(e.map_oauth_error(401, '{"error":"invalid_client"}'), e.AuthError)
    assert isinstance(e.map_oauth_error(503, ""), e.RetriableApiError)


@pytest.mark.parametrize(
    ("status", "headers", "cls"),
    [
        (429, {"Retry-After": "3", "X-Quota-Remaining": "10"}, e.RetriableApiError),
        (429, {"Retry-After": "3600", "X-Quota-Remaining": "0", "X-Quota-Limit": "50000"}, e.QuotaExhaustedError),
        (503, {}, e.RetriableApiError),
        (401, {}, e.AuthError),
        (403, {}, e.AuthError),
        (404, {}, e.NotFoundError),
        (400, {}, e.ValidationError),
        (406, {}, e.FatalApiError),
    ],
    ids=["429", "quota-0", "503", "401", "403", "404", "400", "406"],
)
def test_map_synchroteam_error(status, headers, cls) -> None:
    err = e.map_synchroteam_error(status, json.dumps({"code": status, "message": "boom"}), headers)
    assert type(err) is cls
    assert "boom" in err.message or cls is e.QuotaExhaustedError


def test_quota_error_says_when_it_resets() -> None:
    err = e.map_synchroteam_error(429, '{"message":"quota"}', {"X-Quota-Remaining": "0", "X-Quota-Limit": "5"})
    assert isinstance(err, e.QuotaExhaustedError) and err.resets_at is not None
    assert "resets at" in err.message and "UTC" in err.message and "5 calls" in err.message


def test_errors_survive_pickling_with_their_attributes() -> None:
    err = e.map_quickbooks_error(400, _fault("6240", detail="x : Id=7"))
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is e.DuplicateNameError and back.existing_id == "7" and back.code == "6240"
    assert str(back) == str(err)


def test_scrub_removes_registered_secrets_and_token_shapes() -> None:
    register_secret("my-very-secret-value")
    text = (
        'client my-very-secret-value {"access_token":"abc.def","refresh_token":"RT1-39-H3-17854rcysb9"} '
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig SyncToken\":\"3\""
    )
    out = scrub(text) or ""
    assert "my-very-secret-value" not in out and "abc.def" not in out and "RT1-39" not in out
    assert "eyJhbGci" not in out and out.count(REDACTED) >= 4
    assert 'SyncToken":"3"' in out  # ordinary fields that merely end in "Token" are kept


def test_backoff_is_capped_full_jitter_and_retry_after_wins() -> None:
    top = RetryPolicy(backoff_base=0.5, backoff_cap=30, random=lambda: 1.0)
    assert [top.delay(n) for n in (1, 2, 3, 8)] == [0.5, 1.0, 2.0, 30.0]
    assert RetryPolicy(random=lambda: 0.0).delay(5) == 0.0
    assert top.delay(1, retry_after=7) == 7 and top.delay(1, retry_after=999) == 120


def test_sliding_window_limiter_waits_for_the_oldest_slot() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    limiter = SlidingWindowLimiter(3, window=60, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        assert limiter.acquire() == 0.0
    now[0] = 10.0
    assert limiter.acquire() == pytest.approx(50.0)
    assert waits == [pytest.approx(50.0)]
    assert SlidingWindowLimiter(0).acquire() == 0.0
    batchy = SlidingWindowLimiter(10, window=60, clock=lambda: now[0], sleep=sleep)
    assert batchy.acquire(8) == 0.0  # a batch of 8 items takes 8 slots
    now[0] += 5
    assert batchy.acquire(4) == pytest.approx(55.0)  # 2 more fit only once the batch's slots expire


def test_realm_limits_cap_concurrency_across_threads() -> None:
    import threading
    import time

    from stqbo_api.transport import limits_for, reset_limits

    reset_limits()
    limits = limits_for("quickbooks", "realm-concurrency", concurrent=2, requests_per_minute=0)
    assert limits is limits_for("quickbooks", "realm-concurrency")  # shared by every client of the process
    active, peak = [0], [0]
    lock = threading.Lock()

    def work() -> None:
        with limits.slot():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
    reset_limits()


def test_a_bad_base_url_is_fatal_not_retried() -> None:
    import requests

    from stqbo_api.errors import FatalApiError, RetriableApiError
    from stqbo_api.transport import Transport

    sleeps: list[float] = []
    transport = Transport("synchroteam", requests.Session(), lambda r: None, RetryPolicy(sleep=sleeps.append))
    with pytest.raises(FatalApiError, match="misconfigured"):
        transport.request("GET", "ws.synchroteam.example/api", describe="GET /api")
    with pytest.raises(RetriableApiError, match="lost the connection"):
        transport.request("GET", "http://127.0.0.1:9/api", describe="GET /api")  # nothing listens on port 9
    assert len(sleeps) == 4  # a refused connection is retried (the request never reached a server)


def test_a_write_is_resent_only_when_it_certainly_never_reached_the_server() -> None:
    import requests

    from stqbo_api.errors import RetriableApiError
    from stqbo_api.transport import Transport

    sleeps: list[float] = []
    transport = Transport("synchroteam", requests.Session(), lambda r: None, RetryPolicy(sleep=sleeps.append))
    with pytest.raises(RetriableApiError) as refused:
        transport.request("POST", "http://127.0.0.1:9/api", describe="POST /api", idempotent=False)
    assert refused.value.sent_nothing and len(sleeps) == 4  # connection refused: resent
    lost = RetriableApiError("reply lost", api="synchroteam", code="ReadTimeout")
    assert not lost.sent_nothing
    assert not transport._should_retry(lost, 1, idempotent=False)  # may have been applied: not resent
    assert pickle.loads(pickle.dumps(refused.value)).sent_nothing
