"""The plan review: stored plan rows in, one record per row out (action, both sides' names and ids, why, field
changes); its text in the report, its CSV export, and the report logged as one block."""

from __future__ import annotations

import csv
import io
import logging
from decimal import Decimal
from typing import Any

import pytest

from stqbo_sync import report, review
from stqbo_sync.plan_customers import build
from stqbo_sync.review import QBO, ST, CustomerReview, FieldChange, InvoiceReview
from stqbo_sync.types import Mode
from tests.unit.test_plan_customers import QBO_LATER, inputs, linked, qbo, st


def stored(plan_rows: list[Any]) -> list[dict[str, Any]]:
    """Plan rows as `sync.plan` gives them back (numbered, payload as JSON values)."""
    return [r.as_dict() | {"seq": i + 1, "result": None, "error": None} for i, r in enumerate(plan_rows)]


def reviewed(mode: Mode, sts: list[dict[str, Any]], qbos: list[dict[str, Any]], **more: Any) -> list[CustomerReview]:
    return review.customer_reviews(stored(build(inputs(mode, sts, qbos, **more)).rows))


# ----------------------------------------------------------------------------------------------- customers, from the planner


@pytest.mark.parametrize(("sts", "qbos", "expected"), [
    ([st(1, "Acme")], [qbo("7", "Acme")],
     [("link", "1", "Acme", "7", "Acme", "matched by name")]),
    ([st(1, "Acme", email="a@x.com"), st(2, "Acme")], [qbo("7", "Acme", email="a@x.com")],
     [("link", "1", "Acme", "7", "Acme", "matched by name and email"),
      ("create_qbo", "2", "Acme", None, "Acme (ST 2)",
       "new in Synchroteam; named 'Acme (ST 2)' in QuickBooks (the name is taken there)")]),
    ([st(1, "Acme", phone="555-0100"), st(2, "Acme", phone="555-0199")], [qbo("7", "Acme", phone="555-0100")],
     [("link", "1", "Acme", "7", "Acme", "matched by name and phone"),
      ("create_qbo", "2", "Acme", None, "Acme (ST 2)",
       "new in Synchroteam; named 'Acme (ST 2)' in QuickBooks (the name is taken there)")]),
    ([st(1, "Acme: North")], [],
     [("create_qbo", "1", "Acme: North", None, "Acme - North",
       "new in Synchroteam; named 'Acme - North' in QuickBooks (QuickBooks does not allow a colon, tab or newline "
       "in a name, or one this long)")]),
    ([st(1, "Bolt")], [qbo("7", "Nut")],
     [("create_qbo", "1", "Bolt", None, "Bolt", "new in Synchroteam"),
      ("create_st", None, "Nut", "7", "Nut", "new in QuickBooks")]),
    ([st(1, "Acme"), st(2, "Acme")], [qbo("7", "Acme"), qbo("8", "Acme")],
     [("ambiguous", "1, 2", "Acme", "7, 8", "Acme",
       "2 Synchroteam and 2 QuickBooks customers named 'Acme' and neither email nor phone tells them apart: "
       "link them by hand")]),
])
def test_each_record_names_both_sides_and_why(sts: list[dict[str, Any]], qbos: list[dict[str, Any]],
                                              expected: list[tuple[Any, ...]]) -> None:
    got = [(r.action, r.st_id, r.st_name, r.qbo_id, r.qbo_name, r.why) for r in reviewed(Mode.SYNC, sts, qbos)
           if r.action != "warning"]
    assert got == expected


def test_new_link_lists_each_field_written_with_before_and_after_and_the_conflict_rule() -> None:
    [r] = reviewed(Mode.UPLOAD, [st(1, "Acme", email="new@x.com")], [qbo("7", "Acme", email="old@x.com", phone="555")])
    assert r.why == ("matched by name; conflict on email: new link, upload, Synchroteam wins; "
                     "QuickBooks changes to phone wait: an upload writes one way")
    assert r.changes == (FieldChange("email", QBO, "old@x.com", "new@x.com"),)


def test_update_names_the_side_that_changed_and_each_field_both_ways() -> None:
    st_then, qbo_then = st(1, "Acme", email="a@x.com"), qbo("7", "Acme", email="a@x.com")
    inp = linked(inputs(Mode.SYNC, [st(1, "Acme", email="b@x.com")], [qbo("7", "Acme", email="a@x.com", phone="555",
                                                                          updated=QBO_LATER)]), st_then, qbo_then)
    [r] = review.customer_reviews(stored(build(inp).rows))
    assert (r.action, r.st_id, r.st_name, r.qbo_id, r.qbo_name) == ("update", "1", "Acme", "7", "Acme")
    assert r.why == "changed since last sync (changed in Synchroteam and QuickBooks)"
    assert r.changes == (FieldChange("email", QBO, "a@x.com", "b@x.com"), FieldChange("phone", ST, None, "555"))


def test_update_conflict_names_the_rule_and_the_winner() -> None:
    st_then, qbo_then = st(1, "Acme", email="a@x.com"), qbo("7", "Acme", email="a@x.com")
    inp = linked(inputs(Mode.SYNC, [st(1, "Acme", email="st@x.com")],
                        [qbo("7", "Acme", email="qbo@x.com", updated=QBO_LATER)]), st_then, qbo_then)
    [r] = review.customer_reviews(stored(build(inp).rows))
    assert r.why.endswith("; conflict on email: newer edit, QuickBooks wins")
    assert r.changes == (FieldChange("email", ST, "st@x.com", "qbo@x.com"),)


def test_create_lists_the_values_it_writes() -> None:
    [r] = reviewed(Mode.UPLOAD, [st(1, "Bolt", email="b@x.com")], [])
    assert FieldChange("name", QBO, None, "Bolt") in r.changes
    assert FieldChange("email", QBO, None, "b@x.com") in r.changes
    assert all(c.field != "active" and c.after is not None for c in r.changes)


# ----------------------------------------------------------------------------------------------- customers, stored rows


@pytest.mark.parametrize(("row", "expected"), [
    ({"action": "deactivate_qbo", "reason": "deleted in Synchroteam (not found by the full read)", "st_id": 3,
      "qbo_id": "9", "payload": {"was_active": True}, "status": "done"},
     ("deactivate_qbo", "done", "3", "9", "deleted in Synchroteam (not found by the full read)",
      (FieldChange("active", QBO, True, False),))),
    ({"action": "deactivate_qbo", "reason": "deleted", "st_id": 3, "qbo_id": "9", "payload": {"was_active": False}},
     ("deactivate_qbo", "pending", "3", "9", "deleted", ())),
    ({"action": "create_qbo", "reason": "new in Synchroteam", "st_id": 4, "payload": {"canon": {"name": "X"}},
      "status": "done", "result": {"qbo_id": "55", "display_name": "X"}},
     ("create_qbo", "done", "4", "55", "new in Synchroteam", (FieldChange("name", QBO, None, "X"),))),
    ({"action": "create_st", "reason": "new in QuickBooks", "qbo_id": "8", "payload": {"canon": {"name": "Y"}},
      "status": "done", "result": {"st_id": 12, "note": "already linked"}},
     ("create_st", "done", "12", "8", "new in QuickBooks; already linked", (FieldChange("name", ST, None, "Y"),))),
    ({"action": "skip", "reason": "inactive in QuickBooks and never synced: not created", "qbo_id": "8",
      "status": "info"},
     ("skip", "info", None, "8", "inactive in QuickBooks and never synced: not created", ())),
])
def test_stored_rows_keep_their_status_result_and_reason(row: dict[str, Any], expected: tuple[Any, ...]) -> None:
    r = review.customer_review(row)
    assert (r.action, r.status, r.st_id, r.qbo_id, r.why, r.changes) == expected


def test_warning_names_both_records() -> None:
    r = review.customer_review({"action": "warning", "reason": "probable duplicate (similar names): 'A Inc' / 'A'",
                                "st_id": 1, "qbo_id": "2", "status": "info",
                                "payload": {"kind": "similar names", "st_name": "A Inc", "qbo_name": "A"}})
    assert (r.st_name, r.qbo_name) == ("A Inc", "A")


def test_failed_row_keeps_its_error() -> None:
    r = review.customer_review({"action": "create_qbo", "reason": "new in Synchroteam", "st_id": 4, "status": "failed",
                                "payload": {"canon": {"name": "X"}}, "error": "[6240] Duplicate Name Exists Error"})
    assert (r.status, r.error) == ("failed", "[6240] Duplicate Name Exists Error")
    assert r.as_dict()["changes"] == [{"field": "name", "side": QBO, "before": None, "after": "X"}]


# ----------------------------------------------------------------------------------------------- invoices


@pytest.mark.parametrize(("row", "customers", "expected"), [
    ({"st_id": 5, "action": "create", "reason": "not in QuickBooks yet", "note": "", "st_number": "1042",
      "total": Decimal("120.5"), "qbo_customer_id": "7", "status": "pending"}, {5: "Acme"},
     InvoiceReview(5, "1042", "Acme", "120.50", "create", "pending", "not in QuickBooks yet")),
    ({"st_id": 5, "action": "create", "reason": "not in QuickBooks yet", "note": "customer 'Acme' is linked or "
      "created first", "st_number": "1042", "total": "10", "qbo_customer_id": None}, {},
     InvoiceReview(5, "1042", None, "10.00", "create", "pending",
                   "not in QuickBooks yet; customer 'Acme' is linked or created first")),
    ({"st_id": 6, "action": "update", "reason": "changed since version abc was pushed", "st_number": "7",
      "total": None, "qbo_customer_id": "9", "status": "done"}, {},
     InvoiceReview(6, "7", "QuickBooks customer 9", None, "update", "done", "changed since version abc was pushed")),
    ({"st_id": 7, "action": "fail", "reason": "no tax code", "note": "[tax_code] no tax code", "st_number": "8",
      "total": "1", "status": "failed", "error": "[tax_code] no tax code"}, {7: "Bolt"},
     InvoiceReview(7, "8", "Bolt", "1.00", "fail", "failed", "[tax_code] no tax code")),
    ({"st_id": 8, "action": "skip", "reason": "draft: no number yet", "note": "draft: no number yet",
      "st_number": None, "total": "0", "status": "info"}, {},
     InvoiceReview(8, None, None, "0.00", "skip", "info", "draft: no number yet")),
])
def test_invoice_records(row: dict[str, Any], customers: dict[int, str], expected: InvoiceReview) -> None:
    assert review.invoice_reviews([row], customers) == [expected]


# ----------------------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1 555", "'+1 555"), ("-cmd", "'-cmd"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("-12.50", "-12.50"), ("Acme = best", "Acme = best"),
    (None, ""), (42, "42"),
])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value: Any, cell: str) -> None:
    assert review.safe_cell(value) == cell


def test_customer_csv_has_one_line_per_field_change() -> None:
    records = [CustomerReview(1, "update", "pending", "1", "=Acme", "7", "Acme", "changed since last sync",
                              (FieldChange("email", QBO, None, "a@x.com"), FieldChange("phone", ST, "1", "2"))),
               CustomerReview(2, "skip", "info", None, None, "8", None, "inactive")]
    lines = list(csv.DictReader(io.StringIO(review.customers_csv(records))))
    assert [(ln["seq"], ln["st_name"], ln["field"], ln["written_to"], ln["before"], ln["after"]) for ln in lines] == [
        ("1", "'=Acme", "email", QBO, "(empty)", "a@x.com"), ("1", "'=Acme", "phone", ST, "1", "2"),
        ("2", "", "", "", "", "")]


def test_invoice_csv() -> None:
    text = review.invoices_csv([InvoiceReview(5, "1042", "@Acme", "-3.00", "create", "pending", "new")])
    assert list(csv.reader(io.StringIO(text))) == [list(review.INVOICE_CSV),
                                                    ["5", "1042", "'@Acme", "-3.00", "create", "pending", "new"]]


# ----------------------------------------------------------------------------------------------- the report


SUMMARY: dict[str, Any] = {"run_id": "r1", "mode": "upload", "dry_run": True, "tenant": "t", "duration_s": 1.0,
                           "status": "success", "customer_counts": [["create", "QuickBooks", "pending", 1]],
                           "invoices": {}, "conflicts": [], "warnings": [], "errors": []}


def test_report_lists_each_record_and_each_field_change() -> None:
    customers = [CustomerReview(1, "link", "pending", "1", "Acme", "7", "Acme", "matched by name and email",
                                (FieldChange("phone", QBO, None, "555"),)),
                 CustomerReview(2, "create_qbo", "pending", "2", "Bolt", None, "Bolt", "new in Synchroteam",
                                (FieldChange("name", QBO, None, "Bolt"),))]
    invoices = [InvoiceReview(5, "1042", "Acme", "120.50", "create", "pending", "not in QuickBooks yet")]
    text = report.render(SUMMARY, customers, invoices)
    assert text.startswith(report.render(SUMMARY)), "the existing sections come first, unchanged"
    lines = text.splitlines()
    assert "Plan: customers (2)" in lines and "Plan: invoices (1)" in lines
    assert "1 | link                 | pending | 1 Acme      | 7 Acme     | matched by name and email" in lines
    assert "2 | create in QuickBooks | pending | 2 Bolt      | (new) Bolt | new in Synchroteam" in lines
    assert "1 | phone | QuickBooks | (empty) | 555" in lines
    assert not any("Bolt" in ln and "| name |" in ln for ln in lines), "a create's values are not listed as changes"
    assert "1042          | Acme     | 120.50 | create | pending | not in QuickBooks yet" in lines


def test_report_caps_the_records_it_lists() -> None:
    customers = [CustomerReview(i, "skip", "info", str(i), f"n{i}", None, None, "x") for i in range(1, 8)]
    text = report.plan_section(customers, [], limit=5)
    assert "n5" in text and "n6" not in text
    assert text.splitlines()[-1] == "... and 2 more customer records: see the run's stored plan (sync.plan)"


def test_report_without_plan_rows_has_no_plan_section() -> None:
    assert "Plan" not in report.render(SUMMARY)


def test_report_is_logged_as_one_record(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    text = report.render(SUMMARY, [CustomerReview(1, "skip", "info", "1", "a", None, None, "x")])
    with caplog.at_level(logging.INFO):
        report.emit(text)
    assert [r.getMessage() for r in caplog.records] == [text]
    assert "\n" in text and capsys.readouterr().out == "", "one log record, nothing printed line by line"


def test_report_keeps_one_line_per_record_and_cuts_long_values() -> None:
    long = "x" * 300
    customers = [CustomerReview(1, "update", "pending", "1", "Two\nLines", "7", "B", "why",
                                (FieldChange("address_line1", QBO, "a\r\nb", long),))]
    lines = report.plan_section(customers, []).splitlines()
    assert "1 | update | pending | 1 Two Lines | 7 B        | why" in lines
    assert "1 | address_line1 | QuickBooks | a b    | " + "x" * (report.VALUE_WIDTH - 3) + "..." in lines


def test_conflicts_are_grouped_by_rule_and_winner_and_changes_keep_the_canonical_order() -> None:
    payload = {"st_canon": {"name": "A", "email": "s@x", "city": "S"}, "qbo_canon": {"name": "A", "email": "q@x",
               "city": "Q"}, "how": "name", "to_qbo": {"city": "S", "email": "s@x"}, "to_st": {},
               "conflicts": [{"field": "email", "rule": "new link, sync", "winner": "st"},
                             {"field": "city", "rule": "new link, sync", "winner": "st"},
                             {"field": "phone", "rule": "new link, sync", "winner": "qbo"}]}
    r = review.customer_review({"action": "link", "reason": "", "st_id": 1, "qbo_id": "2", "payload": payload})
    assert r.why == ("matched by name; conflicts on email, city: new link, sync, Synchroteam wins; "
                     "conflict on phone: new link, sync, QuickBooks wins")
    assert [c.field for c in r.changes] == ["email", "city"]
