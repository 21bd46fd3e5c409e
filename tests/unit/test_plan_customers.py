"""The customer planner, one scenario per row: raw records as both APIs return them in, typed plan rows out.

Pure: no database, no HTTP. Synchroteam records carry ``dateModified`` (minute precision, UTC); QuickBooks records
carry ``MetaData.LastUpdatedTime`` (an offset timestamp) and ``SyncToken``.
"""

from __future__ import annotations

from typing import Any

import pytest

from stqbo_sync import mapping
from stqbo_sync.plan_customers import (
    NewLink,
    Plan,
    PlanInputs,
    base_hash,
    build,
    merge_new_link,
)
from stqbo_sync.types import Action, Mode, PlanRow, Status

ST_TIME = "2026-11-25 10:00"              # 10:00 UTC
QBO_EARLIER = "2026-11-25T01:00:00-08:00"  # 09:00 UTC
QBO_LATER = "2026-11-25T03:00:00-08:00"    # 11:00 UTC


def st(sid: int, name: str, *, email: str | None = None, phone: str | None = None, active: bool = True,
       modified: str = ST_TIME, **more: Any) -> dict[str, Any]:
    """A Synchroteam customer as `list_customers` yields it."""
    return {"id": sid, "myId": None, "name": name, "contactFirstName": None, "contactLastName": None,
            "contactEmail": email, "contactPhone": phone, "contactMobile": None, "contactFax": None,
            "addressStreet": "1 Main St", "addressCity": "Springfield", "addressZIP": "62701",
            "addressProvince": "IL", "addressCountry": "USA", "active": active, "dateModified": modified, **more}


def qbo(qid: str, name: str, *, email: str | None = None, phone: str | None = None, active: bool = True,
        updated: str = QBO_EARLIER, token: str = "3", **more: Any) -> dict[str, Any]:
    """A QuickBooks Customer as a query or CDC returns it (an inactive one carries " (deleted)")."""
    obj: dict[str, Any] = {
        "Id": qid, "SyncToken": token, "DisplayName": name if active else name + " (deleted)", "Active": active,
        "BillAddr": {"Line1": "1 Main St", "City": "Springfield", "PostalCode": "62701",
                     "CountrySubDivisionCode": "IL", "Country": "USA"},
        "MetaData": {"CreateTime": "2026-01-01T00:00:00-08:00", "LastUpdatedTime": updated}, **more}
    if email:
        obj["PrimaryEmailAddr"] = {"Address": email}
    if phone:
        obj["PrimaryPhone"] = {"FreeFormNumber": phone}
    return obj


def inputs(mode: Mode = Mode.SYNC, sts: list[dict[str, Any]] = (), qbos: list[dict[str, Any]] = (),  # type: ignore[assignment]
           **more: Any) -> PlanInputs:
    more.setdefault("st_zone", "UTC")   # the Synchroteam account's zone: ST_TIME is a UTC wall time
    return PlanInputs(mode=mode, st_staged={r["id"]: r for r in sts}, qbo_staged={r["Id"]: r for r in qbos},
                      links=[], st_bases={}, qbo_bases={}, **more)


def linked(inp: PlanInputs, st_then: dict[str, Any], qbo_then: dict[str, Any]) -> PlanInputs:
    """Record a link and its bases as the last sync left them (each side's base is what that side returned)."""
    inp.links.append((st_then["id"], qbo_then["Id"], False))
    inp.st_bases[str(st_then["id"])] = {"canon": mapping.st_to_canon(st_then), "version": st_then["dateModified"]}
    inp.qbo_bases[qbo_then["Id"]] = {"canon": mapping.qbo_to_canon(qbo_then), "version": qbo_then["SyncToken"]}
    return inp


def actions(plan: Plan) -> list[tuple[str, int | None, str | None]]:
    return [(str(r.action), r.st_id, r.qbo_id) for r in plan.rows]


def only(plan: Plan, action: Action) -> PlanRow:
    [row] = [r for r in plan.rows if r.action == action]
    return row


# ----------------------------------------------------------------------------------------------- new records


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (Mode.SYNC, [("create_qbo", 10, None), ("create_st", None, "7")]),
        (Mode.UPLOAD, [("create_qbo", 10, None)]),
        (Mode.DOWNLOAD, [("create_st", None, "7")]),
    ],
    ids=["sync-both-ways", "upload-to-quickbooks-only", "download-to-synchroteam-only"],
)
def test_new_on_each_side_is_created_in_the_directions_of_the_mode(mode: Mode, expected: list[Any]) -> None:
    plan = build(inputs(mode, [st(10, "Alpha Plumbing")], [qbo("7", "Beta Roofing", token="5")]))
    assert actions(plan) == expected
    assert all(r.status == Status.PENDING for r in plan.rows)
    if mode != Mode.DOWNLOAD:
        create = only(plan, Action.CREATE_QBO)
        assert create.payload["display_name"] == "Alpha Plumbing"
        assert create.payload["canon"] == mapping.st_to_canon(st(10, "Alpha Plumbing"))
    if mode != Mode.UPLOAD:
        assert only(plan, Action.CREATE_ST).payload["qbo_sync_token"] == "5"


@pytest.mark.parametrize(
    ("st_active", "qbo_active", "expected"),
    [
        (False, True, [("skip", 10, None), ("create_st", None, "7")]),
        (True, False, [("create_qbo", 10, None), ("skip", None, "7")]),
    ],
    ids=["inactive-in-synchroteam", "inactive-in-quickbooks"],
)
def test_inactive_unlinked_record_is_skipped_not_created(st_active: bool, qbo_active: bool,
                                                         expected: list[Any]) -> None:
    plan = build(inputs(Mode.SYNC, [st(10, "Alpha Plumbing", active=st_active)],
                        [qbo("7", "Beta Roofing", active=qbo_active)]))
    assert actions(plan) == expected
    skip = only(plan, Action.SKIP)
    assert skip.status == Status.INFO and "inactive" in skip.reason


@pytest.mark.parametrize(
    ("sts", "qbos", "other_names", "expected"),
    [
        ([st(10, "Acme")], [], [("Vendor", "58", "acme")], {10: "Acme (ST 10)"}),
        ([st(10, "Acme")], [], [("Employee", "3", "Acme")], {10: "Acme (ST 10)"}),
        ([st(10, "Acme")], [], [("Vendor", "58", "Acme Supplies")], {10: "Acme"}),
        ([st(10, "Acme"), st(11, "ACME")], [], [], {10: "Acme", 11: "ACME (ST 11)"}),
        ([st(10, "Time: Plan")], [], [], {10: "Time - Plan"}),
    ],
    ids=["vendor-holds-name", "employee-holds-name", "other-name-differs", "second-same-name-in-plan",
         "colon-made-safe"],
)
def test_display_name_taken_on_quickbooks_gets_the_st_suffix(sts: list[dict[str, Any]], qbos: list[dict[str, Any]],
                                                             other_names: list[Any], expected: dict[int, str]) -> None:
    plan = build(inputs(Mode.UPLOAD, sts, qbos, other_names=other_names))
    got = {r.st_id: r.payload["display_name"] for r in plan.rows if r.action == Action.CREATE_QBO}
    assert got == expected


def test_display_name_of_a_linked_quickbooks_customer_is_taken_too() -> None:
    s9, q7 = st(9, "Acme"), qbo("7", "Acme")
    inp = linked(inputs(Mode.UPLOAD, [s9, st(10, "acme")], [q7]), s9, q7)
    assert only(build(inp), Action.CREATE_QBO).payload["display_name"] == "acme (ST 10)"


def test_inactive_quickbooks_customer_of_the_same_name_holds_the_display_name() -> None:
    """QuickBooks keeps "Acme (deleted)" but its projection is "Acme": matched, not created twice."""
    plan = build(inputs(Mode.SYNC, [st(10, "Acme")], [qbo("7", "Acme", active=False)]))
    assert actions(plan) == [("link", 10, "7")]


# ----------------------------------------------------------------------------------------------- matching


def test_same_name_links_with_the_first_merge_as_payload() -> None:
    plan = build(inputs(Mode.SYNC, [st(10, "Cool Cars", email="a@cool.example")],
                        [qbo("7", "cool cars", phone="555-0100", token="4")]))
    link = only(plan, Action.LINK)
    assert (link.st_id, link.qbo_id, link.status) == (10, "7", Status.PENDING)
    assert link.reason == "same name on both sides"
    assert link.payload["how"] == "name"
    assert link.payload["to_qbo"] == {"email": "a@cool.example"}   # blanks filled both ways, no rename for case
    assert link.payload["to_st"] == {"phone": "555-0100"}
    assert link.payload["qbo_sync_token"] == "4"
    assert link.payload["st_base"] is None and link.payload["qbo_base"] is None
    assert link.base_hash == base_hash(None, None)
    assert plan.conflicts == []
    assert plan.linked_keys == {"cool cars"}


@pytest.mark.parametrize(
    ("mode", "qbo_updated", "to_qbo", "to_st", "winner"),
    [
        (Mode.SYNC, QBO_EARLIER, {"email": "st@x.example"}, {}, "st"),
        (Mode.SYNC, QBO_LATER, {}, {"email": "qbo@x.example"}, "qbo"),
        (Mode.UPLOAD, QBO_LATER, {"email": "st@x.example"}, {}, "st"),
        (Mode.DOWNLOAD, QBO_EARLIER, {}, {"email": "qbo@x.example"}, "qbo"),
    ],
    ids=["sync-synchroteam-newer", "sync-quickbooks-newer", "upload-synchroteam-wins", "download-quickbooks-wins"],
)
def test_new_link_with_different_values_is_decided_by_the_mode(mode: Mode, qbo_updated: str, to_qbo: dict[str, Any],
                                                               to_st: dict[str, Any], winner: str) -> None:
    plan = build(inputs(mode, [st(10, "Cool Cars", email="st@x.example")],
                        [qbo("7", "Cool Cars", email="qbo@x.example", updated=qbo_updated)]))
    link = only(plan, Action.LINK)
    assert (link.payload["to_qbo"], link.payload["to_st"]) == (to_qbo, to_st)
    assert plan.conflicts == [{"st_id": 10, "qbo_id": "7", "field": "email", "st_value": "st@x.example",
                               "qbo_value": "qbo@x.example", "winner": winner, "rule": f"new link, {mode}"}]


@pytest.mark.parametrize(
    ("sts", "qbos", "expected"),
    [
        ([st(10, "Acme"), st(11, "ACME")], [qbo("7", "Acme")], [("ambiguous", None, None)]),
        ([st(10, "Acme", email="a@acme.example"), st(11, "Acme", email="b@acme.example")],
         [qbo("7", "Acme", email="b@acme.example")], [("link", 11, "7"), ("create_qbo", 10, None)]),
        ([st(10, "Acme", phone="555-0101"), st(11, "Acme", phone="555-0102")],
         [qbo("7", "Acme", phone="(555) 0102")], [("link", 11, "7"), ("create_qbo", 10, None)]),
    ],
    ids=["no-tie-break-ambiguous", "email-breaks-the-tie", "phone-breaks-the-tie"],
)
def test_several_same_names(sts: list[dict[str, Any]], qbos: list[dict[str, Any]], expected: list[Any]) -> None:
    plan = build(inputs(Mode.SYNC, sts, qbos))
    assert actions(plan) == expected


def test_ambiguous_group_is_reported_with_its_members_and_nothing_is_created() -> None:
    plan = build(inputs(Mode.SYNC, [st(10, "Acme"), st(11, "ACME")], [qbo("7", "acme"), qbo("8", "Acme")]))
    row = only(plan, Action.AMBIGUOUS)
    assert row.status == Status.INFO
    assert (row.payload["st_ids"], row.payload["qbo_ids"]) == ([10, 11], ["7", "8"])
    assert "2 Synchroteam and 2 QuickBooks customers named 'Acme'" in row.reason
    assert plan.ambiguous == [{"key": "acme", "name": "Acme", "st_ids": [10, 11], "qbo_ids": ["7", "8"]}]


@pytest.mark.parametrize(
    ("sts", "qbos", "expected"),
    [
        ([st(10, "Acme")], [], [("ambiguous", 10, None)]),
        ([], [qbo("7", "ACME")], [("ambiguous", None, "7")]),
        ([st(10, "Acme")], [qbo("7", "Acme")], [("ambiguous", None, None)]),
        ([st(10, "Acme", email="a@acme.example")], [qbo("7", "Acme", email="a@acme.example")], [("link", 10, "7")]),
    ],
    ids=["synchroteam-member-not-created", "quickbooks-member-not-created", "not-linked-on-name-alone",
         "linked-by-email"],
)
def test_remembered_ambiguous_name_is_never_guessed(sts: list[dict[str, Any]], qbos: list[dict[str, Any]],
                                                    expected: list[Any]) -> None:
    plan = build(inputs(Mode.SYNC, sts, qbos, ambiguous_keys={"acme"}))
    assert actions(plan) == expected
    assert not any(r.action in (Action.CREATE_QBO, Action.CREATE_ST) for r in plan.rows)


def test_probable_duplicate_is_a_warning_that_blocks_nothing() -> None:
    plan = build(inputs(Mode.SYNC, [st(10, "Acme Inc.")], [qbo("7", "ACME")]))
    assert actions(plan) == [("create_qbo", 10, None), ("create_st", None, "7"), ("warning", 10, "7")]
    assert only(plan, Action.WARNING).payload["kind"] == "similar names"


# ----------------------------------------------------------------------------------------------- linked pairs


def test_linked_pair_unchanged_plans_nothing() -> None:
    s, q = st(10, "Cool Cars", email="a@cool.example"), qbo("7", "Cool Cars", email="a@cool.example")
    assert build(linked(inputs(Mode.SYNC, [s], [q]), s, q)).rows == []


@pytest.mark.parametrize(
    ("st_now", "qbo_now", "to_qbo", "to_st"),
    [
        ({"contactEmail": "new@cool.example"}, {}, {"email": "new@cool.example"}, {}),
        ({}, {"PrimaryPhone": {"FreeFormNumber": "555-0199"}}, {}, {"phone": "555-0199"}),
        ({"contactEmail": "new@cool.example"}, {"PrimaryPhone": {"FreeFormNumber": "555-0199"}},
         {"email": "new@cool.example"}, {"phone": "555-0199"}),
        ({"active": False}, {}, {"active": False}, {}),
        ({}, {"Active": False, "DisplayName": "Cool Cars (deleted)"}, {}, {"active": False}),
    ],
    ids=["changed-in-synchroteam", "changed-in-quickbooks", "different-fields-both-sides", "deactivated-in-st",
         "deactivated-in-qbo"],
)
def test_linked_pair_changed_is_an_update_towards_the_other_side(st_now: dict[str, Any], qbo_now: dict[str, Any],
                                                                 to_qbo: dict[str, Any], to_st: dict[str, Any]) -> None:
    s, q = st(10, "Cool Cars", email="a@cool.example"), qbo("7", "Cool Cars", email="a@cool.example", token="3")
    inp = linked(inputs(Mode.SYNC, [{**s, **st_now}], [{**q, **qbo_now, "SyncToken": "4"}]), s, q)
    row = only(build(inp), Action.UPDATE)
    assert (row.st_id, row.qbo_id, row.reason) == (10, "7", "changed since last sync")
    assert (row.payload["to_qbo"], row.payload["to_st"]) == (to_qbo, to_st)
    assert row.payload["qbo_sync_token"] == "4"       # the token read with the values the row was planned from
    assert row.payload["st_base"] == mapping.st_to_canon(s)
    assert row.base_hash == base_hash(inp.st_bases["10"], inp.qbo_bases["7"])


def test_linked_pair_read_on_one_side_only_uses_the_other_sides_base() -> None:
    """An incremental read saw only the QuickBooks edit: the Synchroteam side is its base, the token the base's."""
    s, q = st(10, "Cool Cars"), qbo("7", "Cool Cars", token="3")
    inp = linked(inputs(Mode.SYNC, [], [{**q, "PrimaryPhone": {"FreeFormNumber": "555-0199"}, "SyncToken": "4"}]), s, q)
    row = only(build(inp), Action.UPDATE)
    assert (row.payload["to_qbo"], row.payload["to_st"]) == ({}, {"phone": "555-0199"})
    inp2 = linked(inputs(Mode.SYNC, [{**s, "contactPhone": "555-0142"}], []), s, q)
    row2 = only(build(inp2), Action.UPDATE)
    assert (row2.payload["to_qbo"], row2.payload["qbo_sync_token"]) == ({"phone": "555-0142"}, "3")


@pytest.mark.parametrize(
    ("zone", "st_local", "winner"),
    [
        ("America/Los_Angeles", "2026-11-25 04:00", "st"),    # 12:00 UTC: an hour after QuickBooks' 11:00 UTC
        ("America/Los_Angeles", "2026-11-25 02:00", "qbo"),   # 10:00 UTC
        ("Asia/Tokyo", "2026-11-25 19:00", "qbo"),            # 10:00 UTC, though the wall time reads 19:00
        ("Asia/Tokyo", "2026-11-25 21:00", "st"),             # 12:00 UTC
        # Los Angeles, 1 November 2026: 01:30 happens twice (08:30 and 09:30 UTC); the earlier one is taken
        ("America/Los_Angeles", "2026-11-01 01:30", "qbo"),
    ],
    ids=["west-st-newer", "west-qbo-newer", "east-qbo-newer", "east-st-newer", "west-repeated-hour"],
)
def test_newer_edit_is_decided_on_instants_in_the_accounts_zone(zone: str, st_local: str, winner: str) -> None:
    """Synchroteam's wall time is the account's local time: read as UTC, a Los Angeles edit would look 8 hours
    older and a Tokyo edit 9 hours newer than it is."""
    qbo_updated = "2026-11-01T01:00:00-08:00" if st_local.startswith("2026-11-01") else QBO_LATER   # 09:00 / 11:00 UTC
    s, q = st(10, "Cool Cars", email="a@cool.example"), qbo("7", "Cool Cars", email="a@cool.example")
    inp = linked(inputs(Mode.SYNC, [{**s, "contactEmail": "st@cool.example", "dateModified": st_local}],
                        [{**q, "PrimaryEmailAddr": {"Address": "qbo@cool.example"}, "MetaData": {
                            "LastUpdatedTime": qbo_updated}}], st_zone=zone), s, q)
    [conflict] = build(inp).conflicts
    assert conflict["winner"] == winner


@pytest.mark.parametrize(
    ("st_modified", "qbo_updated", "winner"),
    [
        ("2026-11-25 10:00", "2026-11-25T03:00:00-08:00", "qbo"),       # QuickBooks edited an hour later
        ("2026-11-25 12:00", "2026-11-25T03:00:00-08:00", "st"),        # Synchroteam edited an hour later
        ("2026-11-25 11:00", "2026-11-25T03:00:00-08:00", "st"),        # same minute: Synchroteam
        ("2026-11-25 11:00", "2026-11-25T03:00:59-08:00", "st"),        # QuickBooks seconds do not count
        ("2026-11-25 11:00", "2026-11-25T03:01:00-08:00", "qbo"),       # one minute later does
    ],
    ids=["quickbooks-newer", "synchroteam-newer", "tie-to-synchroteam", "tie-within-the-minute", "next-minute"],
)
def test_conflict_on_a_linked_pair_goes_to_the_newer_edit(st_modified: str, qbo_updated: str, winner: str) -> None:
    s, q = st(10, "Cool Cars", email="a@cool.example"), qbo("7", "Cool Cars", email="a@cool.example")
    inp = linked(inputs(Mode.SYNC, [{**s, "contactEmail": "st@cool.example", "dateModified": st_modified}],
                        [{**q, "PrimaryEmailAddr": {"Address": "qbo@cool.example"}, "MetaData": {
                            "LastUpdatedTime": qbo_updated}}]), s, q)
    plan = build(inp)
    row = only(plan, Action.UPDATE)
    st_wins = winner == "st"
    assert row.payload["to_qbo"] == ({"email": "st@cool.example"} if st_wins else {})
    assert row.payload["to_st"] == ({} if st_wins else {"email": "qbo@cool.example"})
    assert plan.conflicts == [{"st_id": 10, "qbo_id": "7", "field": "email", "st_value": "st@cool.example",
                               "qbo_value": "qbo@cool.example", "winner": winner, "rule": "newer edit"}]
    assert row.payload["conflicts"] == [{k: v for k, v in plan.conflicts[0].items() if k not in ("st_id", "qbo_id")}]


@pytest.mark.parametrize(
    ("mode", "to_qbo", "to_st", "held", "email_winner"),
    [
        (Mode.UPLOAD, {"email": "st@cool.example", "mobile": "555-7000"}, {}, {"st": [], "qbo": ["phone"]}, "st"),
        (Mode.DOWNLOAD, {}, {"email": "qbo@cool.example", "phone": "555-0199"}, {"st": ["mobile"], "qbo": []},
         "qbo"),
        (Mode.SYNC, {"mobile": "555-7000"}, {"email": "qbo@cool.example", "phone": "555-0199"},
         {"st": [], "qbo": []}, "qbo"),
    ],
    ids=["upload-writes-quickbooks-holds-its-edits", "download-writes-synchroteam-holds-its-edits",
         "sync-writes-both"],
)
def test_upload_and_download_force_a_side_and_hold_the_other_sides_fields(
        mode: Mode, to_qbo: dict[str, Any], to_st: dict[str, Any], held: dict[str, list[str]],
        email_winner: str) -> None:
    s, q = st(10, "Cool Cars", email="a@cool.example"), qbo("7", "Cool Cars", email="a@cool.example")
    inp = linked(inputs(mode, [{**s, "contactEmail": "st@cool.example", "contactMobile": "555-7000"}],
                        [{**q, "PrimaryEmailAddr": {"Address": "qbo@cool.example"},
                          "PrimaryPhone": {"FreeFormNumber": "555-0199"},
                          "MetaData": {"LastUpdatedTime": QBO_LATER}}]), s, q)
    plan = build(inp)
    row = only(plan, Action.UPDATE)
    assert (row.payload["to_qbo"], row.payload["to_st"], row.payload["held"]) == (to_qbo, to_st, held)
    [conflict] = plan.conflicts
    assert (conflict["field"], conflict["winner"]) == ("email", email_winner)
    assert conflict["rule"] == ("newer edit" if mode == Mode.SYNC else f"mode {mode}")


@pytest.mark.parametrize(
    ("mode", "full_read", "expected", "status"),
    [
        (Mode.SYNC, True, [("deactivate_qbo", 10, "7")], Status.PENDING),
        (Mode.UPLOAD, True, [("deactivate_qbo", 10, "7")], Status.PENDING),
        (Mode.DOWNLOAD, True, [("skip", 10, "7")], Status.INFO),
        (Mode.SYNC, False, [], None),
    ],
    ids=["sync-deactivates", "upload-deactivates", "download-skips", "incremental-read-proves-nothing"],
)
def test_linked_synchroteam_customer_missing_from_a_full_read(mode: Mode, full_read: bool, expected: list[Any],
                                                              status: Status | None) -> None:
    s, q = st(10, "Cool Cars"), qbo("7", "Cool Cars")
    inp = linked(inputs(mode, [st(11, "Other")], [q, qbo("8", "Other")], st_full_read=full_read), s, q)
    plan = build(inp)
    got = [a for a in actions(plan) if a[1] == 10]
    assert got == expected
    if expected:
        assert plan.rows[0].status == status
    if expected and expected[0][0] == "deactivate_qbo":
        assert plan.rows[0].payload == {"was_active": True}
        assert plan.rows[0].base_hash == base_hash(inp.st_bases["10"], inp.qbo_bases["7"])


def test_link_already_mirrored_as_deleted_plans_nothing() -> None:
    s, q = st(10, "Cool Cars"), qbo("7", "Cool Cars")
    inp = linked(inputs(Mode.SYNC, [], [{**q, "PrimaryPhone": {"FreeFormNumber": "555-0199"}}], st_full_read=True),
                 s, q)
    inp.links[0] = (10, "7", True)
    assert build(inp).rows == []


# ----------------------------------------------------------------------------------------------- seams


def test_merge_new_link_is_the_plans_first_merge() -> None:
    """The loader's adoption of a same-name record merges exactly like a link found by the plan."""
    s = st(10, "Cool Cars", email="st@x.example", modified="2026-11-25 12:00")
    q = qbo("7", "Cool Cars", email="qbo@x.example", phone="555-0100", token="9", updated=QBO_LATER)
    link = only(build(inputs(Mode.SYNC, [s], [q])), Action.LINK)
    m, payload = merge_new_link(Mode.SYNC, NewLink.from_qbo(10, mapping.st_to_canon(s), q, s["dateModified"]), "UTC")
    assert payload == {k: v for k, v in link.payload.items() if k != "how"}
    assert m.to_qbo == {"email": "st@x.example"} and m.to_st == {"phone": "555-0100"}
    assert payload["qbo_sync_token"] == "9"


def test_merge_new_link_without_synchroteam_time_lets_quickbooks_win_in_sync() -> None:
    """The loader does not know when the adopted Synchroteam record was edited: the QuickBooks time decides."""
    q = qbo("7", "Cool Cars", email="qbo@x.example")
    m, _ = merge_new_link(Mode.SYNC, NewLink.from_qbo(10, mapping.st_to_canon(st(10, "Cool Cars", email="s@x.example")), q),
                          "UTC")
    assert m.to_st == {"email": "qbo@x.example"} and m.to_qbo == {}


def test_plan_row_round_trips_through_the_stored_shape() -> None:
    row = PlanRow(Action.CREATE_QBO, "new in Synchroteam", 10, None, {"display_name": "Acme"})
    stored = row.as_dict()
    assert stored["action"] == "create_qbo" and type(stored["action"]) is str
    assert stored["status"] == "pending" and type(stored["status"]) is str
    assert PlanRow.from_dict({**stored, "seq": 4, "error": None}) == PlanRow(
        Action.CREATE_QBO, "new in Synchroteam", 10, None, {"display_name": "Acme"}, seq=4)


def test_stored_action_strings_keep_their_meaning() -> None:
    assert [a.value for a in Action] == ["link", "update", "create_qbo", "create_st", "deactivate_qbo", "ambiguous",
                                         "skip", "warning"]
    assert [s.value for s in Status] == ["pending", "done", "failed", "superseded", "info"]
