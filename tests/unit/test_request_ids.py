"""Request ids must never change shape: a write sent by an older version and retried by a newer one must carry
the same id, or QuickBooks applies it twice. These are the ids the connector has always sent."""

from __future__ import annotations

import pytest

from stqbo_sync import request_ids


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        pytest.param(lambda: request_ids.plan_row(1, "manual__2026-12-01", 5, "c0"),
                     "stqbo-a39198e81cbbb21727bc4587-c0", id="customer-create"),
        pytest.param(lambda: request_ids.invoice_write("demo|9341|1", 700, "0123456789abcdef", "c.0"),
                     "stqbo-c.0-6c6c13866fef7921c97e", id="invoice-create"),
        pytest.param(lambda: request_ids.batch_prefix("demo|9341|1", [(700, "v.0"), (701, "w.0")]),
                     "stqbo-b-670a2cb9c1916c78214c2fc5", id="invoice-batch"),
    ],
)
def test_ids_keep_their_wire_form(made, expected) -> None:
    assert made() == expected


def test_ids_fit_quickbooks_limits() -> None:
    assert len(request_ids.invoice_write("x" * 300, 10**15, "f" * 40, "u" * 30)) <= 50
    assert len(request_ids.batch_prefix("x" * 300, [(i, "v") for i in range(30)]) + "-29") <= 36
    assert request_ids.tenant_key("demo", "9341", 1) == "demo|9341|1"
