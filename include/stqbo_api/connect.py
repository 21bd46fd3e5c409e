"""``make connect``: get a first QuickBooks refresh token with OAuth 2.0's authorization-code flow.

Why a command of its own: QuickBooks only hands out a refresh token to a person who signs in and approves the app
in a browser; nothing in Airflow can do that. The command prints (and opens) Intuit's authorize URL, serves the
redirect once on ``http://localhost:<port>/callback``, checks the random ``state``, exchanges the code with Basic
client auth, stores the tokens encrypted in the state DB through ``TokenStore`` (the very table the hook reads),
proves them by reading the company's name, and prints what to put in the ``quickbooks_default`` connection
(never the client secret nor a token).

    python -m stqbo_api.connect [--client-id ID] [--client-secret S] [--environment sandbox|production]
        [--authorize-url URL] [--token-url URL] [--api-url URL] [--redirect-port 8765] [--state-db-url DSN]
        [--no-browser] [--timeout 600]

Defaults are Intuit's real endpoints. The client id and secret come from the options, else the environment
(``QBO_CLIENT_ID`` / ``QBO_CLIENT_SECRET``), else a prompt (the secret with ``getpass``, never echoed).
"""

from __future__ import annotations

import argparse
import getpass
import hmac
import html
import json
import os
import secrets
import sys
import time
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from stqbo_api.errors import ApiError, map_oauth_error
from stqbo_api.quickbooks import BASE_URLS, DEFAULT_TOKEN_URL, QuickBooksClient
from stqbo_api.redact import register_secret, scrub
from stqbo_api.tokens import TokenSet, TokenStore, with_expiry

DEFAULT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
SCOPE = "com.intuit.quickbooks.accounting"
DEFAULT_REDIRECT_PORT = 8765
DEFAULT_TIMEOUT = 600.0
CONN_ID = "quickbooks_default"
REPO = Path(__file__).resolve().parents[2]
# Written by `make airflow` (devenv/airflow_up.sh) so that `make connect` stores tokens where that Airflow reads.
AIRFLOW_STATE_DB_FILE = REPO / "var" / "airflow" / "state_db_url"


class ConnectError(RuntimeError):
    """The flow cannot go on; the message says what to do. Never carries a secret."""


@dataclass(frozen=True)
class Settings:
    """Everything the flow needs, resolved from options, environment and prompts."""

    client_id: str
    client_secret: str
    environment: str
    authorize_url: str
    token_url: str
    api_url: str
    redirect_uri: str
    state_db_url: str
    state_db_origin: str
    open_browser: bool
    timeout: float

    @property
    def local_port(self) -> int | None:
        """The port to serve the redirect on, or None when it goes elsewhere (pasted back by the person)."""
        parts = urlsplit(self.redirect_uri)
        if parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"):
            return parts.port or 80
        return None

    def __repr__(self) -> str:  # the secret and the DSN (may hold a password) stay out of any repr
        return f"Settings(client_id={self.client_id!r}, environment={self.environment!r})"


@dataclass(frozen=True)
class Grant:
    """What the redirect brought back."""

    code: str
    realm_id: str


# --------------------------------------------------------------------------------------------- settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m stqbo_api.connect",
        description="Connect a QuickBooks Online company: sign in to Intuit in a browser, store the tokens "
        "(encrypted) in the connector's state database, and print what to put in the Airflow connection "
        f"'{CONN_ID}'.",
    )
    p.add_argument("--client-id", help="the app's OAuth client id (else $QBO_CLIENT_ID, else a prompt)")
    p.add_argument("--client-secret", help="the app's client secret (else $QBO_CLIENT_SECRET, else a hidden "
                   "prompt; prefer those: an option stays in your shell history)")
    p.add_argument("--environment", choices=("sandbox", "production"), default="sandbox",
                   help="which kind of company you connect (default: sandbox); picks the API URL")
    p.add_argument("--authorize-url", default=DEFAULT_AUTHORIZE_URL, help=f"default {DEFAULT_AUTHORIZE_URL}")
    p.add_argument("--token-url", default=DEFAULT_TOKEN_URL, help=f"default {DEFAULT_TOKEN_URL}")
    p.add_argument("--api-url", help="API base URL for the connection's Host (default: Intuit's for the "
                   "environment, or the authorize URL's origin when that is not Intuit's, e.g. a simulator)")
    p.add_argument("--redirect-port", type=int, default=DEFAULT_REDIRECT_PORT,
                   help="port of the local redirect http://localhost:PORT/callback; the same URI must be listed "
                   f"in your Intuit app's Redirect URIs (default {DEFAULT_REDIRECT_PORT})")
    p.add_argument("--redirect-uri", help="another redirect URI, e.g. the https one production keys require: "
                   "after you approve, paste the address the browser was sent to (the page need not load)")
    p.add_argument("--state-db-url", help="PostgreSQL URL of the state database (the Airflow connection "
                   "sync_state_db); else $STQBO_STATE_DB_URL, $AIRFLOW_CONN_SYNC_STATE_DB, or the one `make "
                   "airflow` uses")
    p.add_argument("--no-browser", action="store_true", help="only print the URL; do not open a browser")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds to wait for the sign-in (default {DEFAULT_TIMEOUT:.0f})")
    return p.parse_args(argv)


def resolve_state_db(option: str | None, environ: dict[str, str]) -> tuple[str, str]:
    """The state DB DSN and where it came from (for the message)."""
    if option:
        return option, "--state-db-url"
    if environ.get("STQBO_STATE_DB_URL"):
        return environ["STQBO_STATE_DB_URL"], "$STQBO_STATE_DB_URL"
    if environ.get("AIRFLOW_CONN_SYNC_STATE_DB"):
        return _dsn_from_airflow_conn(environ["AIRFLOW_CONN_SYNC_STATE_DB"]), "$AIRFLOW_CONN_SYNC_STATE_DB"
    if AIRFLOW_STATE_DB_FILE.is_file():
        return AIRFLOW_STATE_DB_FILE.read_text().strip(), "the state database of `make airflow`"
    raise ConnectError(
        "Where should the tokens be stored? Give --state-db-url with the PostgreSQL database of the Airflow "
        "connection sync_state_db (e.g. postgresql://user:password@host:5432/sync_state), or start `make "
        "airflow` first."
    )


def _dsn_from_airflow_conn(value: str) -> str:
    """A psycopg2 DSN from an ``AIRFLOW_CONN_*`` value: JSON, or a URI (``postgres://`` accepted)."""
    from stqbo_api.dsn import postgres_dsn

    value = value.strip()
    if value.startswith("{"):
        c = json.loads(value)
        extra = c.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
        return postgres_dsn(c.get("host"), c.get("port"), c.get("login"), c.get("password"), c.get("schema"), extra)
    parts = urlsplit(value)
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


def default_api_url(environment: str, authorize_url: str) -> str:
    """Intuit's API host for the environment, unless the authorize page is somebody else's (a simulator serves
    its API on the same origin as its authorize page)."""
    parts = urlsplit(authorize_url)
    if urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")).rstrip("/") != DEFAULT_AUTHORIZE_URL:
        return f"{parts.scheme}://{parts.netloc}"
    return BASE_URLS[environment]


def resolve_settings(args: argparse.Namespace, environ: dict[str, str],
                     prompt: Callable[[str], str] = input,
                     secret_prompt: Callable[[str], str] = getpass.getpass) -> Settings:
    client_id = (args.client_id or environ.get("QBO_CLIENT_ID") or "").strip()
    if not client_id:
        client_id = prompt("QuickBooks app client id (Intuit developer portal > your app > Keys & OAuth): ")
        client_id = client_id.strip()
    secret = args.client_secret or environ.get("QBO_CLIENT_SECRET") or ""
    if not secret:
        secret = secret_prompt("Client secret (not shown): ").strip()
    if not client_id or not secret:
        raise ConnectError("both the client id and the client secret of your Intuit app are needed")
    register_secret(secret)
    dsn, origin = resolve_state_db(args.state_db_url, environ)
    if not 0 < args.redirect_port < 65536:
        raise ConnectError(f"--redirect-port must be a TCP port, not {args.redirect_port}")
    redirect_uri = args.redirect_uri or f"http://localhost:{args.redirect_port}/callback"
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        raise ConnectError(f"--redirect-uri must be an http(s) URL, not {redirect_uri!r}")
    return Settings(
        client_id=client_id, client_secret=secret, environment=args.environment,
        authorize_url=args.authorize_url, token_url=args.token_url,
        api_url=(args.api_url or default_api_url(args.environment, args.authorize_url)).rstrip("/"),
        redirect_uri=redirect_uri, state_db_url=dsn, state_db_origin=origin,
        open_browser=not args.no_browser, timeout=args.timeout,
    )


# ------------------------------------------------------------------------------------------ the OAuth flow


def authorize_url(settings: Settings, state: str) -> str:
    """Intuit's authorize URL with our parameters (query parameters already on the given URL are kept)."""
    parts = urlsplit(settings.authorize_url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({
        "client_id": settings.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": settings.redirect_uri,
        "state": state,
    })
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def judge(query: dict[str, str], expected_state: str) -> tuple[Grant | None, str | None]:
    """Read the redirect's query: the grant, or why there is none (a foreign ``state`` is refused)."""
    if not hmac.compare_digest(query.get("state", ""), expected_state):
        return None, ("the redirect's `state` did not match the one this command sent, so it was refused (it was "
                      "not the answer to this sign-in). Run the command again and use the new URL.")
    if query.get("error"):
        err = query["error"]
        why = "you declined access" if err == "access_denied" else f"QuickBooks answered `{err}`"
        desc = query.get("error_description")
        return None, f"the app was not authorised: {why}" + (f" ({scrub(desc, 300)})" if desc else "")
    if not query.get("code") or not query.get("realmId"):
        return None, "the redirect carried no authorization code or no realmId"
    register_secret(query["code"])
    return Grant(code=query["code"], realm_id=query["realmId"]), None


class _CallbackServer(HTTPServer):
    """Serves the redirect path until one answer with our state arrives (or a wrong one: then it gives up)."""

    def __init__(self, port: int, path: str, state: str) -> None:
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.path = path or "/"
        self.expected_state = state
        self.grant: Grant | None = None
        self.failure: str | None = None

    @property
    def done(self) -> bool:
        return self.grant is not None or self.failure is not None


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        if parts.path != self.server.path:
            self._page(404, "Not found", f"This address only answers the QuickBooks redirect at {self.server.path}.")
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        grant, failure = judge(query, self.server.expected_state)
        self.server.grant, self.server.failure = grant, failure
        if grant is not None:
            self._page(200, "Authorised", "QuickBooks authorised the app. You can close this tab and go back to the "
                       "terminal.")
        elif query.get("error") and "state" not in (failure or ""):
            self._page(200, "Not connected", "The app was not authorised. See the terminal.")
        else:
            self._page(400, "Refused", "This redirect was refused (see the terminal). Nothing was stored.")

    def _page(self, status: int, title: str, text: str) -> None:
        body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
                f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: the request line holds the authorization code."""


def open_callback_server(port: int, path: str, state: str) -> _CallbackServer:
    try:
        server = _CallbackServer(port, path, state)
    except OSError as err:
        raise ConnectError(f"cannot listen on localhost:{port} ({err.strerror}); choose another --redirect-port "
                           "and add http://localhost:PORT/callback to the app's Redirect URIs") from err
    server.timeout = 0.5
    return server


def wait_for_grant(server: _CallbackServer, timeout: float) -> Grant:
    deadline = time.monotonic() + timeout
    while not server.done:
        if time.monotonic() > deadline:
            raise ConnectError(f"no answer from QuickBooks within {timeout:.0f} s; run the command again")
        server.handle_request()
    if server.failure:
        raise ConnectError(server.failure)
    assert server.grant is not None
    return server.grant


def read_pasted_grant(state: str, prompt: Callable[[str], str] = input) -> Grant:
    """For a redirect URI this command cannot serve: the person pastes the address the browser was sent to."""
    pasted = prompt("After approving, paste here the full address your browser was sent to: ").strip()
    query = dict(parse_qsl(urlsplit(pasted).query, keep_blank_values=True))
    grant, failure = judge(query, state)
    if grant is None:
        raise ConnectError(failure or "no grant in the pasted address")
    return grant


def exchange_code(settings: Settings, code: str, session: requests.Session | None = None) -> TokenSet:
    """POST the code to the token endpoint (Basic client auth, form body) and return the tokens."""
    http = session or requests.Session()
    try:
        resp = http.post(
            settings.token_url,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": settings.redirect_uri},
            auth=(settings.client_id, settings.client_secret),
            headers={"Accept": "application/json"},
            timeout=(10, 60),
        )
    except requests.RequestException as err:
        raise ConnectError(f"cannot reach the token endpoint {settings.token_url}: {type(err).__name__}") from err
    if resp.status_code != 200:
        raise ConnectError(_exchange_failure(resp))
    payload = resp.json()
    access, refresh = payload.get("access_token"), payload.get("refresh_token")
    if not access or not refresh:
        raise ConnectError("the token endpoint answered without an access token or a refresh token")
    register_secret(access)
    register_secret(refresh)
    return with_expiry(TokenSet(refresh_token=refresh, access_token=access),
                       _num(payload.get("expires_in")), _num(payload.get("x_refresh_token_expires_in")),
                       datetime.now(UTC))


def _exchange_failure(resp: requests.Response) -> str:
    err = map_oauth_error(resp.status_code, resp.text, resp.headers)
    if err.code == "invalid_grant":
        return ("QuickBooks refused the authorization code (invalid_grant): codes are single-use and expire after "
                "10 minutes, and the redirect URI must be exactly the one used to sign in. Run the command again.")
    if err.code in ("invalid_client", "unauthorized_client"):
        return (f"QuickBooks refused the app's credentials ({err.code}): check the client id and secret, and that "
                f"they are the {settings_hint(resp.url)} keys of the app.")
    return f"the code exchange failed: {err}"


def settings_hint(url: str) -> str:
    return "Development (sandbox) or Production" if "intuit.com" in url else "simulator's"


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------ results


def store_and_check(settings: Settings, grant: Grant, tokens: TokenSet) -> str:
    """Store the tokens where the hook reads them, then read CompanyInfo with the hook's client to prove them.

    Returns the company name ('' when the check could not read it: the tokens are stored anyway)."""
    store = TokenStore(settings.state_db_url, settings.client_secret)
    store.save(grant.realm_id, settings.client_id, tokens.refresh_token, tokens.access_token,
               tokens.expires_at, tokens.refresh_expires_at)
    client = QuickBooksClient(settings.api_url, grant.realm_id, settings.client_id, settings.client_secret, store,
                              settings.token_url, environment=settings.environment)
    try:
        info = client.get_company_info()
    except ApiError as err:
        return f"!{err}"
    return str(info.get("CompanyName") or info.get("LegalName") or "?")


def connection_fields(settings: Settings, realm_id: str) -> dict[str, Any]:
    """The ``quickbooks_default`` connection, secret left as a placeholder; no token (they are in the store)."""
    return {
        "conn_type": "quickbooks",
        "host": settings.api_url,
        "login": settings.client_id,
        "password": "<your client secret>",
        "extra": {
            "realm_id": realm_id,
            "environment": settings.environment,
            "token_url": settings.token_url,
            "use_synchroteam_invoice_numbers": False,
        },
    }


# The labels of the "QuickBooks Online" connection form (the stqbo-hooks provider: plugins/stqbo_hooks/connections.py;
# this package may not import it). tests/dags/test_provider.py checks them against the form Airflow shows.
CONN_TYPE_LABEL = "QuickBooks Online"
FORM_LABELS = {
    "host": "API base URL",
    "login": "OAuth client id",
    "password": "OAuth client secret",
    "realm_id": "Realm ID (company id)",
    "environment": "Environment",
    "token_url": "OAuth token URL",
    "use_synchroteam_invoice_numbers": "Use Synchroteam invoice numbers",
}


def form_lines(conn: dict[str, Any]) -> list[tuple[str, str]]:
    """(form label, what to enter) for each field of the connection form, in the form's order."""
    values = {**{k: conn[k] for k in ("host", "login")}, **conn["extra"]}
    lines = [("Connection Id", CONN_ID), ("Connection Type", CONN_TYPE_LABEL)]
    for key, label in FORM_LABELS.items():
        if key == "password":
            lines.append((label, "your client secret (the one you gave this command)"))
        elif isinstance(values[key], bool):
            lines.append((label, "on" if values[key] else "off"))
        else:
            lines.append((label, str(values[key])))
    return lines


def other_tenants(dsn: str, realm_id: str) -> list[tuple[str, str, str]]:
    """(Synchroteam domain, realm, environment) of the mappings the state DB already holds for other realms."""
    import psycopg2

    from stqbo_store import tenants

    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.Error:
        return []
    try:
        return tenants.other_realm_tenants(conn, realm_id) if tenants.schema_ready(conn) else []
    finally:
        conn.close()


def check_state_db(dsn: str) -> None:
    """Fail before the browser step when the tokens could not be stored afterwards."""
    import psycopg2

    try:
        psycopg2.connect(dsn, connect_timeout=5).close()
    except psycopg2.Error as err:
        first = (str(err).strip().splitlines() or ["?"])[0]
        raise ConnectError(f"cannot connect to the state database: {scrub(first, 300)}") from err


def redact_dsn(dsn: str) -> str:
    """A DSN fit to print: the password replaced."""
    parts = urlsplit(dsn)
    if parts.scheme.startswith("postgres") and parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return scrub(dsn, 500) or ""


def print_result(out: TextIO, settings: Settings, grant: Grant, company: str) -> None:
    conn = connection_fields(settings, grant.realm_id)
    w = out.write
    if company.startswith("!"):
        w(f"\nThe tokens are stored, but reading the company with them failed: {company[1:]}\n"
          f"Check the API URL ({settings.api_url}) and the environment ({settings.environment}).\n")
    else:
        w(f"\nConnected to QuickBooks company '{company}' (realm {grant.realm_id}, {settings.environment}).\n")
    w(f"Tokens stored, encrypted, in the state database ({settings.state_db_origin}: "
      f"{redact_dsn(settings.state_db_url)}), table auth.qbo_oauth_token. The hooks read and rotate them there;\n"
      f"Airflow's connection sync_state_db must point at this same database.\n\n")
    w(f"Now add (or edit) the Airflow connection '{CONN_ID}' in Admin > Connections, with these fields of the "
      f"{CONN_TYPE_LABEL} form:\n")
    width = max(len(label) for label, _ in form_lines(conn))
    for label, value in form_lines(conn):
        w(f"  {label:<{width}}  {value}\n")
    w("Leave 'Initial refresh token' empty (the tokens are in the state database) and the other invoice options at "
      "their defaults unless you need them (docs/operating.md, section 8). Save, then press Test: it reads the "
      "company.\n\n")
    w("or as an environment variable (put your client secret in place of <your client secret>):\n")
    w(f"  AIRFLOW_CONN_{CONN_ID.upper()}='{json.dumps(conn)}'\n")


def print_tenant_note(out: TextIO, settings: Settings, realm_id: str) -> None:
    """Say what happens to the mappings of a previous company (sandbox -> production)."""
    others = other_tenants(settings.state_db_url, realm_id)
    if not others:
        return
    listed = ", ".join(f"{d} <-> realm {r} ({e})" for d, r, e in others)
    out.write(f"\nThis state database already holds the mapping of {listed}. Runs against realm {realm_id} "
              "start a clean mapping of their own; the old mapping is kept for audit and is never used for "
              "this company.\n")


# ----------------------------------------------------------------------------------------------- the command


def run(settings: Settings, out: TextIO = sys.stdout, state: str | None = None) -> Grant:
    """The whole flow; returns the grant (realm id) once the tokens are stored."""
    check_state_db(settings.state_db_url)
    state = state or secrets.token_urlsafe(24)
    url = authorize_url(settings, state)
    port = settings.local_port
    server = open_callback_server(port, urlsplit(settings.redirect_uri).path, state) if port else None
    try:
        out.write(f"Redirect URI (must be listed in your Intuit app's Redirect URIs): {settings.redirect_uri}\n")
        out.write("Open this URL in a browser, sign in to QuickBooks and choose the company to connect:\n\n")
        out.write(f"  {url}\n\n")
        if server is not None:
            out.write(f"Waiting for QuickBooks to redirect to {settings.redirect_uri} ...\n")
        out.flush()
        if settings.open_browser:
            _open_browser(url)
        grant = wait_for_grant(server, settings.timeout) if server is not None else read_pasted_grant(state)
    finally:
        if server is not None:
            server.server_close()
    out.write(f"Authorised for realm {grant.realm_id}; exchanging the code for tokens ...\n")
    out.flush()
    tokens = exchange_code(settings, grant.code)
    company = store_and_check(settings, grant, tokens)
    print_result(out, settings, grant, company)
    print_tenant_note(out, settings, grant.realm_id)
    out.flush()
    return grant


def _open_browser(url: str) -> None:
    """Only where a graphical browser can exist: on a headless Linux, ``webbrowser`` may start a text browser
    that takes over the terminal this command is waiting in. The printed URL is always enough."""
    if sys.platform not in ("darwin", "win32") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return
    try:
        webbrowser.open(url, new=1)
    except Exception:
        pass


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    args = parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    try:
        settings = resolve_settings(args, env)
        run(settings)
    except ConnectError as err:
        print(f"make connect: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("make connect: interrupted; nothing was stored", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
