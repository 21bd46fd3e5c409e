"""The invoice planner: one typed action per staged Synchroteam invoice, from its ledger row, its customer's link,
its resolved items and the company settings. Pure: no database, no HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stqbo_sync import invoice_payload as p
from stqbo_sync.plan_invoices import (
    DRY_RUN_ITEM,
    Failure,
    InvoiceAction,
    InvoicePlanRow,
    PlanInputs,
    StagedInvoice,
    build,
    mode_note,
    plan_invoice,
)
from stqbo_sync.types import Mode

US = p.Settings(tax=p.TaxModel(us=True, line_code=lambda t: "TAX" if p.tax_rate(t) else "NON"),
                numbering=p.numbering(False, False), home_currency="USD")
ITEMS = {"SVC-HOUR": {"value": "11"}, "PIPE": {"value": "12"}, "": {"value": "13"}}
CUSTOMER = "58"


def st_invoice(st_id: int = 101, num: Any = 1042, status: str = "sent", qty: Any = 2, **extra: Any) -> dict[str, Any]:
    """A Synchroteam invoice as the API returns it: a priced line with a part, a priced line without one."""
    excl = Decimal(str(qty)) * 85 + 25
    return {"id": st_id, "num": num, "status": status, "customer": {"id": 5, "name": "ACME"}, "currency": "USD",
            "dateCreated": "2026-05-02 09:10", "dateModified": "2026-05-03 10:00", "description": "Boiler service",
            "lines": [{"partProductCode": "SVC-HOUR", "description": "Labour", "quantity": qty, "unitPrice": 85},
                      {"partProductCode": None, "description": "Travel", "quantity": 1, "unitPrice": 25}],
            "totalExclTax": float(excl), "totalTax": 0, "total": float(excl), **extra}


def version_of(invoice: dict[str, Any], customer_id: str = CUSTOMER, items: dict[str, Any] = ITEMS) -> str:
    """The version the push computed before the planner existed: the fingerprint of `build_invoice`'s body."""
    return p.fingerprint(p.build_invoice(invoice, customer_id, lambda ref, line: dict(items[ref]), US))


def staged(invoice: dict[str, Any] | None = None, ledger: dict[str, Any] | None = None,
           customer_id: str | None = CUSTOMER, items: dict[str, Any] | None = None,
           item_failure: Failure | None = None) -> StagedInvoice:
    invoice = invoice or st_invoice()
    return StagedInvoice(int(invoice["id"]), invoice, ledger, customer_id, ITEMS if items is None else items,
                         item_failure)


def ledger(state: str = "done", version: str | None = None, pending: str | None = None, qbo_id: str | None = "900",
           **extra: Any) -> dict[str, Any]:
    return {"st_id": 101, "qbo_id": qbo_id, "qbo_docnumber": "1001" if qbo_id else None, "version": version,
            "pending_version": pending, "state": state, "failures": 0, "last_error": None, **extra}


CURRENT = version_of(st_invoice())
OLDER = "0123456789abcdef"


# ----------------------------------------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("given", "dry_run", "action", "reason"),
    [
        pytest.param(staged(st_invoice(num=None, status="draft")), False, "skip", "draft: no Synchroteam number yet",
                     id="draft-skipped"),
        pytest.param(staged(st_invoice(status="cancelled")), False, "skip", "not pushed: unknown status 'cancelled'",
                     id="status-not-pushed"),
        pytest.param(staged(customer_id=None), False, "fail", "its customer 'ACME' (Synchroteam 5) is not in QuickBooks",
                     id="customer-not-linked-real-run"),
        pytest.param(staged(customer_id=None), True, "create", "not in QuickBooks yet",
                     id="customer-not-linked-dry-run"),
        pytest.param(staged(), False, "create", "not in QuickBooks yet", id="new"),
        pytest.param(staged(ledger=ledger("failed", qbo_id=None, failures=2)), False, "create",
                     "not in QuickBooks yet", id="failed-before-never-written"),
        pytest.param(staged(ledger=ledger("done", CURRENT)), False, "unchanged", f"version {CURRENT} is in QuickBooks",
                     id="unchanged"),
        pytest.param(staged(ledger=ledger("done", CURRENT)), True, "unchanged", f"version {CURRENT} is in QuickBooks",
                     id="unchanged-dry-run"),
        pytest.param(staged(ledger=ledger("done", OLDER)), False, "update", f"changed since version {OLDER}",
                     id="changed"),
        pytest.param(staged(ledger=ledger("pending", OLDER, pending=CURRENT)), False, "update",
                     "changed since", id="update-whose-reply-was-lost"),
        pytest.param(staged(ledger=ledger("paid_in_qbo", OLDER, pending=CURRENT)), False, "held",
                     "paid_in_qbo: version", id="paid-same-version-held"),
        pytest.param(staged(ledger=ledger("deleted_in_qbo", OLDER, pending=CURRENT)), False, "held",
                     "deleted_in_qbo: version", id="deleted-same-version-held"),
        pytest.param(staged(ledger=ledger("voided_in_qbo", OLDER, pending=CURRENT)), False, "held",
                     "voided_in_qbo: version", id="voided-same-version-held"),
        pytest.param(staged(ledger=ledger("paid_in_qbo", OLDER, pending=OLDER)), False, "update", "changed since",
                     id="paid-new-version-re-read-by-the-loader"),
        pytest.param(staged(ledger=ledger("deleted_in_qbo", OLDER, pending=OLDER,
                                          last_error="deleted in QuickBooks by a person: not re-created")),
                     False, "hold", "deleted in QuickBooks by a person: not re-created", id="deleted-new-version"),
        pytest.param(staged(ledger=ledger("voided_in_qbo", OLDER, pending=OLDER,
                                          last_error="voided in QuickBooks: not rewritten")),
                     True, "hold", "voided in QuickBooks: not rewritten", id="voided-new-version-dry-run"),
        pytest.param(staged(item_failure=Failure("6000", "item refused", "quickbooks", "ItemRef")), False, "fail",
                     "item refused", id="item-not-resolved"),
        pytest.param(staged(st_invoice(status="draft", num=None), item_failure=Failure("6000", "x")), False, "skip",
                     "draft", id="skip-before-item-failure"),
        pytest.param(staged(st_invoice(currency="EUR")), False, "fail", "the invoice is in EUR",
                     id="payload-error"),
    ],
)
def test_one_action_per_invoice(given: StagedInvoice, dry_run: bool, action: str, reason: str) -> None:
    row = plan_invoice(given, US, dry_run)
    assert (row.action, row.st_id) == (InvoiceAction(action), given.st_id)
    assert row.reason.startswith(reason), row.reason


def test_a_new_invoice_carries_the_body_and_version_the_loader_writes() -> None:
    row = plan_invoice(staged(), US, dry_run=False)
    assert row.body == p.build_invoice(st_invoice(), CUSTOMER, lambda ref, line: dict(ITEMS[ref]), US)
    assert row.version == CURRENT == p.fingerprint(row.body)
    assert [ln["SalesItemLineDetail"]["ItemRef"] for ln in row.body["Line"]] == [{"value": "11"}, {"value": "13"}]
    assert (row.number, row.total, row.customer_id, row.st_modified) == ("1042", Decimal("195.00"), CUSTOMER,
                                                                         "2026-05-03 10:00")
    assert (row.qbo_id, row.failures, row.note, row.failure, row.writes) == (None, 0, "", None, True)


def test_the_version_is_the_one_the_ledger_already_holds() -> None:
    """A pinned fingerprint: any change to the body of an unchanged invoice would rewrite every ledger's invoices."""
    assert CURRENT == "12f1416872f40d99"


def test_an_update_carries_the_ledger_facts_request_ids_need() -> None:
    row = plan_invoice(staged(ledger=ledger("done", OLDER, failures=3)), US, dry_run=False)
    assert (row.action, row.qbo_id, row.qbo_docnumber, row.failures) == (InvoiceAction.UPDATE, "900", "1001", 3)
    assert row.version == CURRENT != OLDER


def test_the_items_resolved_for_the_invoice_are_the_ones_in_its_body() -> None:
    items = {"SVC-HOUR": {"value": "41"}, "": {"value": "42"}}
    row = plan_invoice(staged(items=items), US, dry_run=False)
    assert [ln["SalesItemLineDetail"]["ItemRef"]["value"] for ln in (row.body or {})["Line"]] == ["41", "42"]
    assert row.version == version_of(st_invoice(), items=items) != CURRENT


def test_a_part_reference_is_looked_up_without_surrounding_spaces() -> None:
    invoice = st_invoice()
    invoice["lines"][0]["partProductCode"] = " SVC-HOUR "
    row = plan_invoice(staged(invoice), US, dry_run=False)
    assert (row.body or {})["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {"value": "11"}


def test_customer_not_linked_in_a_real_run_is_an_error_naming_the_customer() -> None:
    row = plan_invoice(staged(customer_id=None), US, dry_run=False)
    assert row.failure == Failure("customer_not_synced", row.reason, "connector", "customer")
    assert row.note == f"[customer_not_synced] {row.reason}"
    assert row.body is None and row.version is None and not row.writes


def test_an_item_failure_is_the_invoice_failure_as_the_api_said_it() -> None:
    failure = Failure("2500", "Invalid Reference Id", "quickbooks", "ItemRef")
    row = plan_invoice(staged(item_failure=failure, ledger=ledger("done", OLDER)), US, dry_run=False)
    assert (row.action, row.failure, row.note) == (InvoiceAction.FAIL, failure, "[2500] Invalid Reference Id")
    assert row.qbo_id == "900", "the loader reports a failed update of an invoice already in QuickBooks"


def test_a_payload_error_names_its_code_and_field() -> None:
    invoice = st_invoice()
    invoice["lines"][0]["discount"] = 120
    row = plan_invoice(staged(invoice), US, dry_run=False)
    assert row.failure is not None and (row.failure.code, row.failure.field) == ("discount", "discount")
    assert row.failure.side == "connector" and "120" in row.failure.message


def test_a_bug_in_one_invoice_is_its_own_internal_failure() -> None:
    row = plan_invoice(staged(items={}), US, dry_run=False)
    assert row.failure is not None and row.failure.code == "internal" and row.failure.message.startswith("KeyError")


def test_deleted_in_quickbooks_with_a_new_version_is_reported_with_the_ledger_note() -> None:
    row = plan_invoice(staged(ledger=ledger("deleted_in_qbo", OLDER, pending=OLDER, last_error="gone")), US, False)
    assert (row.action, row.note, row.held_state, row.version) == (InvoiceAction.HOLD, "gone", "deleted_in_qbo",
                                                                   CURRENT)
    bare = plan_invoice(staged(ledger=ledger("voided_in_qbo", OLDER, pending=OLDER)), US, False)
    assert (bare.reason, bare.note) == ("", "voided_in_qbo"), "no ledger note: the report names the state"


# ----------------------------------------------------------------------------------------------- dry run


@pytest.mark.parametrize(
    ("customer_id", "items", "note"),
    [
        pytest.param(CUSTOMER, ITEMS, "", id="nothing-to-create-first"),
        pytest.param(None, ITEMS, "customer 'ACME' is linked or created first", id="customer-first"),
        pytest.param(CUSTOMER, {**ITEMS, "SVC-HOUR": {"value": DRY_RUN_ITEM, "name": "SVC-HOUR"}},
                     "new QuickBooks items are created first", id="items-first"),
        pytest.param(None, {**ITEMS, "": {"value": DRY_RUN_ITEM, "name": "Services"}},
                     "customer 'ACME' is linked or created first; new QuickBooks items are created first",
                     id="both-first"),
    ],
)
def test_dry_run_rows_say_what_is_created_first(customer_id: str | None, items: dict[str, Any], note: str) -> None:
    row = plan_invoice(staged(customer_id=customer_id, items=items), US, dry_run=True)
    assert (row.action, row.note) == (InvoiceAction.CREATE, note)
    assert (row.body or {})["CustomerRef"] == {"value": customer_id or "0"}


def test_dry_run_plans_an_update_of_an_invoice_in_quickbooks() -> None:
    row = plan_invoice(staged(ledger=ledger("done", OLDER)), US, dry_run=True)
    assert (row.action, row.note, row.qbo_docnumber) == (InvoiceAction.UPDATE, "", "1001")


# ----------------------------------------------------------------------------------------------- the plan


def test_rows_come_in_synchroteam_id_order_one_per_invoice() -> None:
    invoices = [staged(st_invoice(st_id=i)) for i in (300, 100, 200)]
    rows = build(PlanInputs(Mode.SYNC, False, US, invoices))
    assert [r.st_id for r in rows] == [100, 200, 300]


@pytest.mark.parametrize("mode", [Mode.UPLOAD, Mode.DOWNLOAD])
def test_modes_that_move_customers_only_plan_no_invoice(mode: Mode) -> None:
    assert build(PlanInputs(mode, False, US, [staged()])) == []
    assert mode_note(mode) == f"{mode} mode moves customers only: invoices are pushed by sync runs"
    assert mode_note(Mode.SYNC) is None


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(staged(), id="create"),
        pytest.param(staged(ledger=ledger("done", OLDER, failures=2)), id="update"),
        pytest.param(staged(customer_id=None), id="fail"),
        pytest.param(staged(ledger=ledger("deleted_in_qbo", OLDER, pending=OLDER, last_error="gone")), id="hold"),
        pytest.param(staged(st_invoice(status="draft", num=None)), id="skip"),
    ],
)
def test_a_row_survives_the_store_round_trip(given: StagedInvoice) -> None:
    row = plan_invoice(given, US, dry_run=False)
    stored = row.as_dict()
    assert stored["status"] == ("info" if row.action == InvoiceAction.SKIP else "pending")
    assert InvoicePlanRow.from_dict(stored) == row


@pytest.mark.parametrize(
    ("status", "reported", "eligible", "action"),
    [
        pytest.param("Partially Paid", None, p.eligible_keys(), "create", id="partially-paid-form-pushed"),
        pytest.param("partially_paid", None, p.eligible_keys(), "create", id="partially_paid-pushed"),
        pytest.param("cancelled", None, p.eligible_keys(), "skip", id="unknown-status-named"),
        pytest.param("cancelled", "cancelled", p.eligible_keys(), "held", id="named-once-then-quiet"),
        pytest.param("awaiting approval", "cancelled", p.eligible_keys(), "skip", id="another-status-named-again"),
        pytest.param("awaiting approval", None, p.eligible_keys(["new", "sent", "awaiting approval"]), "create",
                     id="option-adds-a-status"),
        pytest.param("paid", None, p.eligible_keys(["new", "sent"]), "skip", id="option-removes-a-status"),
    ],
)
def test_statuses_outside_the_option_are_named_once(status: str, reported: str | None, eligible: frozenset[str],
                                                    action: str) -> None:
    led = ledger(qbo_id=None, reported_status=reported) if reported else None
    [row] = build(PlanInputs(Mode.SYNC, False, US, [staged(st_invoice(status=status), led)], eligible))
    assert str(row.action) == action
    if action == "skip":
        assert row.reason == (f"not pushed: unknown status '{status}' (add it to the invoice_statuses option to push "
                              "it)")
        assert row.reported_status == status and row.as_dict()["reported_status"] == status
