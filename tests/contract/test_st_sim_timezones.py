"""Synchroteam simulator: every date-time is the account's local time (facts file, row S1).

Responses show local wall time (`yyyy-MM-dd HH:mm`, no zone), every date filter is read as local time, seeds give
local times, and DST changes are real: in the repeated hour a later edit can show an earlier time, and a filter
in that hour is read as its later instant (the reading that returns fewer rows); a filter in the skipped hour is
read as the time shifted forward by the gap. The clock itself stays UTC (`/_sim/clock`).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devenv import sims
from simulators.synchroteam.testing import StClient

WEST, EAST = "America/Los_Angeles", "Asia/Tokyo"


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults, not the UTC mode the connector's tests still run in."""
    return st_real


def account(st: Any, domain: str, timezone: str | None = None, **settings: Any) -> StClient:
    """A (new or updated) account; without ``timezone`` it gets the simulator's default."""
    body = {"domain": domain, "api_key": f"{domain}-key", **settings}
    if timezone is not None:
        body["timezone"] = timezone
    st.admin("POST", "/_sim/accounts", json=body).raise_for_status()
    return StClient(st.url, domain, f"{domain}-key")


@pytest.fixture()
def west(st: Any) -> StClient:
    return account(st, "west", WEST)


@pytest.fixture()
def east(st: Any) -> StClient:
    return account(st, "east", EAST)


def set_clock(st: Any, instant: datetime) -> None:
    """Move the simulator clock so that it reads ``instant`` (UTC) now; `POST /_sim/clock` takes a relative move."""
    now = datetime.fromisoformat(st.admin("GET", "/_sim/clock").json()["now"].replace("Z", "+00:00"))
    st.admin("POST", "/_sim/clock", json={"advance_seconds": (instant - now).total_seconds()}).raise_for_status()


def advance(st: Any, seconds: float) -> None:
    st.admin("POST", "/_sim/clock", json={"advance_seconds": seconds}).raise_for_status()


def create(client: StClient, name: str) -> dict[str, Any]:
    return dict(client.ok("POST", "customer/send", json={"name": name, "address": "1 Road"}))


KEYS = {"customer": "name", "part": "reference", "invoice": "id"}


def changed(client: StClient, since: str, resource: str = "customer", name: str = "changedSince") -> list[str]:
    """What a list filtered by ``name >= since`` answers: customer names, part references or invoice ids."""
    rows = client.ok("GET", f"{resource}/list", params={name: since, "pageSize": 100})["data"]
    return sorted(str(r[KEYS[resource]]) for r in rows)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ----------------------------------------------------------------------------------------------- settings


def test_default_account_is_new_york_with_prefix_lookups(st: Any) -> None:
    got = st.admin("GET", "/_sim/account").json()
    assert (got["domain"], got["timezone"], got["name_lookup"]) == ("demo", "America/New_York", "prefix")
    assert got["utc_offset"] in ("-05:00", "-04:00")
    assert datetime.strptime(got["now"], "%Y-%m-%d %H:%M:%S")  # the form a filter takes


def test_accounts_get_a_zone_through_the_admin_api(st: Any) -> None:
    added = st.admin("POST", "/_sim/accounts", json={"domain": "Tokyo-Branch", "api_key": "k", "timezone": EAST})
    assert added.status_code == 200
    assert {k: added.json()[k] for k in ("domain", "timezone", "name_lookup", "utc_offset")} == {
        "domain": "Tokyo-Branch", "timezone": EAST, "name_lookup": "prefix", "utc_offset": "+09:00"}
    seeded = st.admin("POST", "/_sim/seed", json={"accounts": [{"domain": "la", "api_key": "k", "timezone": WEST}]})
    assert seeded.json()["accounts"] == [{"domain": "la", "timezone": WEST, "name_lookup": "prefix"}]
    plain = st.admin("POST", "/_sim/accounts", json={"domain": "plain", "api_key": "k"}).json()
    assert plain["timezone"] == "America/New_York"
    listed = {a["domain"]: a["timezone"] for a in st.admin("GET", "/_sim/accounts").json()["accounts"]}
    assert listed["Tokyo-Branch"] == EAST and listed["la"] == WEST and listed["demo"] == "America/New_York"
    assert "api_key" not in st.admin("GET", "/_sim/accounts").json()["accounts"][0]


def test_patch_account_changes_the_zone_and_keeps_the_instants(st: Any, west: StClient) -> None:
    set_clock(st, utc("2026-07-15 18:30:20"))
    made = create(west, "Moved")
    assert made["dateCreated"] == "2026-07-15 11:30"
    patched = st.admin("PATCH", "/_sim/account?domain=west", json={"timezone": EAST})
    assert patched.status_code == 200 and patched.json()["timezone"] == EAST
    assert west.ok("GET", "customer/details", params={"id": made["id"]})["dateCreated"] == "2026-07-16 03:30"
    st.admin("PATCH", "/_sim/account?domain=west", json={"timezone": WEST}).raise_for_status()
    assert west.ok("GET", "customer/details", params={"id": made["id"]})["dateCreated"] == "2026-07-15 11:30"


@pytest.mark.parametrize(
    "body",
    [{"timezone": "Mars/Olympus_Mons"}, {"timezone": ""}, {"timezone": 5}, {"name_lookup": "fuzzy"},
     {"colour": "blue"}, {}, {"timezone": EAST, "name_lookup": "fuzzy"}],
    ids=["unknown-zone", "empty-zone", "number-zone", "bad-lookup", "unknown-key", "empty", "half-bad"],
)
def test_bad_account_settings_are_400_and_change_nothing(st: Any, west: StClient, body: dict[str, Any]) -> None:
    resp = st.admin("PATCH", "/_sim/account?domain=west", json=body)
    assert resp.status_code == 400 and resp.json()["code"] == 400
    got = st.admin("GET", "/_sim/account?domain=west").json()
    assert (got["timezone"], got["name_lookup"]) == (WEST, "prefix")
    assert st.admin("PATCH", "/_sim/account?domain=nosuch", json={"timezone": WEST}).status_code == 404


def test_an_account_with_a_bad_zone_is_not_created(st: Any) -> None:
    resp = st.admin("POST", "/_sim/accounts", json={"domain": "badzone", "api_key": "k", "timezone": "PST"})
    assert resp.status_code == 400 and "PST" in resp.json()["message"]
    assert st.admin("GET", "/_sim/account?domain=badzone").status_code == 404
    assert st.admin("POST", "/_sim/seed", json={"accounts": [{"domain": "badzone", "api_key": "k",
                                                              "timezone": "UTC+2"}]}).status_code == 400
    typo = st.admin("POST", "/_sim/accounts", json={"domain": "badzone", "api_key": "k", "time_zone": WEST})
    assert typo.status_code == 400 and "time_zone" in typo.json()["message"]
    assert st.admin("GET", "/_sim/account?domain=badzone").status_code == 404


def test_settings_survive_reset(st: Any, east: StClient) -> None:
    st.admin("PATCH", "/_sim/account?domain=east", json={"name_lookup": "exact"}).raise_for_status()
    st.reset()
    got = st.admin("GET", "/_sim/account?domain=east").json()
    assert (got["timezone"], got["name_lookup"]) == (EAST, "exact")
    st.admin("PATCH", "/_sim/account?domain=east", json={"name_lookup": "prefix"}).raise_for_status()


# ----------------------------------------------------------------------------------------------- west and east


def test_one_instant_shows_the_local_wall_clock_of_each_account(st: Any, west: StClient, east: StClient) -> None:
    utc_account = account(st, "utc-account", "UTC")
    set_clock(st, utc("2026-07-15 18:30:20"))
    shown = {name: create(client, name)["dateModified"]
             for name, client in (("west", west), ("east", east), ("utc", utc_account))}
    assert shown == {"west": "2026-07-15 11:30", "east": "2026-07-16 03:30", "utc": "2026-07-15 18:30"}
    assert st.admin("GET", "/_sim/clock").json()["now"].startswith("2026-07-15T18:30:")


def test_west_filters_are_local_so_a_utc_reading_client_misses_changes(st: Any, west: StClient) -> None:
    """The connector's bug in issue 12: the UTC value it sends is read as a Los Angeles time 7 hours later."""
    set_clock(st, utc("2026-07-15 18:30:20"))
    create(west, "Edited at 11:30 PDT")
    assert changed(west, "2026-07-15 11:30:00") == ["Edited at 11:30 PDT"]
    assert changed(west, "2026-07-15 11:31:00") == []
    assert changed(west, "2026-07-15 18:28:00") == []  # what a client reading the times as UTC would send
    assert changed(west, "2026-07-15") == ["Edited at 11:30 PDT"]  # a bare date is local midnight


def test_east_filters_are_local_and_the_local_date_rolls_over_first(st: Any, east: StClient) -> None:
    set_clock(st, utc("2026-07-15 18:30:20"))
    create(east, "Edited at 03:30 JST")
    assert changed(east, "2026-07-16") == ["Edited at 03:30 JST"]  # Tokyo midnight = 2026-07-15 15:00 UTC
    assert changed(east, "2026-07-16 03:30:00") == ["Edited at 03:30 JST"]
    assert changed(east, "2026-07-16 03:31:00") == []
    assert changed(east, "2026-07-17") == []


def test_seed_times_are_local_unless_they_carry_a_zone(st: Any, east: StClient) -> None:
    seeded = st.admin("POST", "/_sim/seed?domain=east", json={"customers": [
        {"name": "Local", "address": "x", "dateCreated": "2026-01-10 09:00", "dateModified": "2026-01-10 09:05:30"},
        {"name": "Zulu", "address": "x", "dateCreated": "2026-01-10T00:00:00Z"},
        {"name": "Offset", "address": "x", "dateCreated": "2026-01-10T01:00:00+02:00"},
    ], "parts": [{"reference": "P", "name": "P", "dateCreated": "2026-01-11 08:00"}]}).json()
    assert [(c["name"], c["dateCreated"], c["dateModified"]) for c in seeded["customers"]] == [
        ("Local", "2026-01-10 09:00", "2026-01-10 09:05"),
        ("Zulu", "2026-01-10 09:00", "2026-01-10 09:00"),
        ("Offset", "2026-01-10 08:00", "2026-01-10 08:00"),
    ]
    assert seeded["parts"][0]["dateCreated"] == "2026-01-11 08:00"
    assert changed(east, "2026-01-10 09:00:00", "customer") == ["Local", "Zulu"]
    assert changed(east, "2026-01-10 09:05:30", "customer") == ["Local"]
    assert changed(east, "2026-01-11 08:00:00", "part") == ["P"]
    assert changed(east, "2026-01-11 08:00:01", "part") == []


def test_invoice_dates_and_filters_are_local(st: Any, west: StClient) -> None:
    st.admin("POST", "/_sim/seed?domain=west", json={"customers": [{"name": "Inv Co", "address": "x"}]})
    seeded = st.admin("POST", "/_sim/seed?domain=west", json={"invoices": [
        {"customer": {"name": "Inv Co"}, "status": "paid", "lines": [{"description": "x"}],
         "dateCreated": "2026-02-01 23:30", "datePaid": "2026-02-10 22:00", "dateDue": "2026-03-03 23:30"},
    ]}).json()["invoices"][0]
    assert (seeded["dateCreated"], seeded["dateModified"], seeded["datePaid"], seeded["dateDue"]) == (
        "2026-02-01 23:30", "2026-02-01 23:30", "2026-02-10 22:00", "2026-03-03")
    assert west.ok("GET", "invoice/details", params={"id": seeded["id"]})["dateDue"] == "2026-03-03"
    for name, hit, miss in (("createdSince", "2026-02-01 23:30:00", "2026-02-01 23:31:00"),
                            ("changedSince", "2026-02-01 23:30:00", "2026-02-02 00:00:00"),
                            ("paidSince", "2026-02-10 22:00:00", "2026-02-10 22:00:01")):
        assert changed(west, hit, "invoice", name) == [str(seeded["id"])], name
        assert changed(west, miss, "invoice", name) == [], name
    set_clock(st, utc("2026-03-05 03:10:20"))
    edited = st.admin("PATCH", f"/_sim/invoices/{seeded['id']}?domain=west", json={"description": "late edit"})
    assert edited.json()["dateModified"] == "2026-03-04 19:10"


def test_filter_error_says_local_time(west: StClient) -> None:
    resp = west.get("customer/list", changedSince="2026-07-15T11:30:00Z")
    assert resp.status_code == 400 and "local time" in resp.json()["message"]


def test_clock_moves_in_utc_and_the_local_time_follows(st: Any, west: StClient) -> None:
    set_clock(st, utc("2026-07-15 18:30:20"))
    advance(st, 3600)
    assert st.admin("GET", "/_sim/clock").json()["now"].startswith("2026-07-15T19:30:")
    assert west.local_now().strftime("%Y-%m-%d %H:%M") == "2026-07-15 12:30"
    assert create(west, "After an hour")["dateCreated"] == "2026-07-15 12:30"


# ----------------------------------------------------------------------------------------------- DST


def test_repeated_hour_later_edit_shows_earlier_and_filters_take_the_later_instant(
        st: Any, west: StClient) -> None:
    """2026-11-01 in Los Angeles: 01:00-01:59 happens twice (PDT, then PST)."""
    set_clock(st, utc("2026-11-01 08:40:20"))  # 01:40 PDT, first pass
    first = create(west, "First pass")
    assert st.admin("GET", "/_sim/account?domain=west").json()["utc_offset"] == "-07:00"
    advance(st, 30 * 60)  # 09:10 UTC = 01:10 PST, second pass
    second = create(west, "Second pass")
    assert st.admin("GET", "/_sim/account?domain=west").json()["utc_offset"] == "-08:00"
    assert (first["dateModified"], second["dateModified"]) == ("2026-11-01 01:40", "2026-11-01 01:10")
    # a since-filter in the repeated hour is read as its SECOND (later) instant: the reading hardest on a client
    assert changed(west, "2026-11-01 01:05:00") == ["Second pass"]  # 09:05 UTC: the 08:40 edit is not returned
    assert changed(west, "2026-11-01 01:40:00") == []  # 09:40 UTC, although "First pass" shows 01:40
    assert changed(west, "2026-11-01 00:59:00") == ["First pass", "Second pass"]  # unambiguous, PDT
    assert changed(west, "2026-11-01 02:00:00") == []  # PST, after both


def test_repeated_hour_seed_is_the_first_pass_unless_an_offset_says_otherwise(st: Any, west: StClient) -> None:
    seeded = st.admin("POST", "/_sim/seed?domain=west", json={"customers": [
        {"name": "Naive", "address": "x", "dateModified": "2026-11-01 01:30"},
        {"name": "PST", "address": "x", "dateModified": "2026-11-01T01:30:00-08:00"},
    ]}).json()["customers"]
    assert [c["dateModified"] for c in seeded] == ["2026-11-01 01:30", "2026-11-01 01:30"]
    assert changed(west, "2026-11-01 01:30:00") == ["PST"]  # 09:30 UTC; "Naive" is 08:30 UTC


def test_skipped_hour_filter_is_shifted_forward_deterministically(st: Any, west: StClient) -> None:
    """2026-03-08 in Los Angeles: 02:00-02:59 does not exist; 02:30 is read as 03:30 PDT."""
    set_clock(st, utc("2026-03-08 10:10:20"))  # 03:10 PDT
    made = create(west, "After the gap")
    assert made["dateModified"] == "2026-03-08 03:10"
    for _ in range(2):
        assert changed(west, "2026-03-08 02:00:00") == ["After the gap"]  # = 03:00 PDT
        assert changed(west, "2026-03-08 02:30:00") == []  # = 03:30 PDT
    assert changed(west, "2026-03-08 01:59:00") == ["After the gap"]  # PST, before the gap
    seeded = st.admin("POST", "/_sim/seed?domain=west", json={"customers": [
        {"name": "Seeded in gap", "address": "x", "dateModified": "2026-03-08 02:30"}]}).json()
    assert seeded["customers"][0]["dateModified"] == "2026-03-08 03:30"


# ----------------------------------------------------------------------------------------------- start option


@pytest.fixture(scope="module")
def tokyo_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sims.SimProcess]:
    sim = sims.start("synchroteam", log_path=tmp_path_factory.mktemp("st-tokyo") / "sim.log",
                     extra_args=("--timezone", EAST, "--name-lookup", "exact"))
    try:
        yield sim
    finally:
        sim.stop()


def test_start_options_set_the_account_and_the_default_of_new_accounts(tokyo_sim: sims.SimProcess) -> None:
    got = tokyo_sim.admin("GET", "/_sim/account").json()
    assert (got["timezone"], got["name_lookup"], got["utc_offset"]) == (EAST, "exact", "+09:00")
    added = tokyo_sim.admin("POST", "/_sim/accounts", json={"domain": "later", "api_key": "k"}).json()
    assert (added["timezone"], added["name_lookup"]) == (EAST, "exact")
    client = StClient(tokyo_sim.url)
    now_utc = datetime.fromisoformat(tokyo_sim.admin("GET", "/_sim/clock").json()["now"].replace("Z", "+00:00"))
    shown = datetime.strptime(create(client, "Tokyo")["dateCreated"], "%Y-%m-%d %H:%M")
    assert timedelta(0) <= (now_utc + timedelta(hours=9)).replace(tzinfo=None) - shown <= timedelta(minutes=2)


def test_unknown_start_timezone_is_refused() -> None:
    done = subprocess.run([sys.executable, "-m", "simulators.synchroteam", "--timezone", "Nowhere/Special",
                           "--port", "1"], cwd=sims.REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Nowhere/Special" in done.stderr
