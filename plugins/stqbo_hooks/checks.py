"""What a connection form's **Test** button says: one real read, and on failure one plain sentence naming the
form field to fix.

The clients' errors carry transport facts (status, code) for logs and reports; a person at the connection form
needs to know which field is wrong. These functions map the typed errors to such sentences, keeping the
clients' own wording where it already says what to do (re-authorise, quota). No secret reaches a message:
every text goes through ``scrub``.
"""

from __future__ import annotations

from dataclasses import dataclass

from stqbo_api.errors import (
    ApiError,
    AuthError,
    ConfigurationError,
    NotFoundError,
    QuotaExhaustedError,
    ReauthorizationRequired,
    RetriableApiError,
)
from stqbo_api.redact import scrub
from stqbo_api.transport import RetryPolicy

# The Test button waits for the answer: try twice, briefly, instead of the five attempts (up to minutes when
# throttled) a sync task makes.
TEST_RETRY_POLICY = RetryPolicy(max_attempts=2, backoff_cap=1.0, throttle_attempts=1, retry_after_cap=2.0)

_QBO_CLIENT_CODES = ("invalid_client", "unauthorized_client")


@dataclass(frozen=True)
class Target:
    """What the message may name: the service, the URL tried and the connection id."""

    service: str
    url: str
    conn_id: str


def _text(value: object, limit: int = 300) -> str:
    return scrub(str(value), limit=limit) or type(value).__name__


def unusable(target: Target, err: Exception) -> str:
    """The connection cannot even build a client (a field missing or invalid)."""
    detail = str(err) if isinstance(err, ConfigurationError | ValueError) else f"{type(err).__name__}: {err}"
    return f"The {target.service} connection '{target.conn_id}' is not usable: {_text(detail)}"


def unreachable(target: Target, err: RetriableApiError) -> str:
    if err.status == 429:
        return f"{target.service} is throttling requests right now (HTTP 429): try the Test again in a minute."
    if err.status is not None:
        return (f"{target.service} at {target.url} answered HTTP {err.status} (a server-side problem): try again "
                "later; if it persists, check the API base URL.")
    return (f"Could not reach {target.service} at {target.url} ({err.code or 'no answer'}): check the API base URL "
            "(Host) and that this machine can reach it.")


def synchroteam_failure(target: Target, err: Exception) -> str:
    """The Synchroteam read failed: which field to fix."""
    if isinstance(err, QuotaExhaustedError):
        return err.message
    if isinstance(err, AuthError):
        return ("Synchroteam refused the account domain or the API key: check Account domain (the 'mycompany' of "
                "mycompany.synchroteam.com) and API key (Synchroteam: your account's API settings).")
    if isinstance(err, NotFoundError):
        return (f"Synchroteam has no API at {target.url} (HTTP 404): check the API base URL (Host; default "
                "https://ws.synchroteam.com).")
    if isinstance(err, RetriableApiError):
        return unreachable(target, err)
    if isinstance(err, ApiError):
        return f"Synchroteam refused the test read: {_text(err.message)}"
    return unusable(target, err)


def quickbooks_failure(target: Target, realm_id: str, err: Exception) -> str:
    """The QuickBooks read (with its token refresh) failed: which field to fix."""
    if isinstance(err, ReauthorizationRequired):
        if err.code == "no_refresh_token":
            return (f"No QuickBooks refresh token could be read for company (realm) {realm_id}. Either the app was "
                    "never connected to this company with this client id (run `make connect`), or the OAuth client "
                    "secret is not the one used when connecting (stored tokens are encrypted with it): check the "
                    "secret first.")
        return err.message
    if isinstance(err, AuthError) and err.code in _QBO_CLIENT_CODES:
        return ("QuickBooks refused the OAuth client id or client secret: check OAuth client id and OAuth client "
                "secret (Intuit developer portal > your app > Keys and credentials; the Development keys go with "
                "a sandbox company, the Production keys with a real one).")
    if isinstance(err, AuthError):
        return (f"QuickBooks refused access to company (realm) {realm_id}: check Realm ID, and that the app is "
                "connected to that company (run `make connect` to connect it again).")
    if isinstance(err, NotFoundError):
        return (f"QuickBooks has no company {realm_id} at {target.url}: check Realm ID and the Environment or API "
                "base URL (a sandbox company is not on the production URL, nor the other way round).")
    if isinstance(err, RetriableApiError):  # the token endpoint is called first when no access token is fresh
        token_hint = "" if err.status is not None else " If it is right, check the OAuth token URL too."
        return unreachable(target, err) + token_hint
    if isinstance(err, ApiError):
        return f"QuickBooks refused the test read: {_text(err.message)}"
    if type(err).__module__.startswith("psycopg2"):
        first = (str(err).strip().splitlines() or ["?"])[0]
        return ("QuickBooks tokens are kept in the state database (Airflow connection sync_state_db), which could "
                f"not be used: {_text(first)}")
    return unusable(target, err)
