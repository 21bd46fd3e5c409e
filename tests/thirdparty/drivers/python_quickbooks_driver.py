"""python-quickbooks 0.9.12 with intuit-oauth (intuitlib), as an application would use them, against the simulator.

Runs in the third-party venv (tests/thirdparty/harness.py), never with the project on its path. Usage:
``python python_quickbooks_driver.py CONFIG.json``; CONFIG has ``sim_url``, ``client_id``, ``client_secret``,
``realm_id``, ``refresh_token``. Prints one JSON object: what each step saw, for the test to check against the
simulator's own state.

Pointed at the simulator only through the libraries' own settings: intuitlib's ``environment`` takes a discovery
document URL (the simulator serves one naming its own token endpoint), and ``QuickBooks.api_url_v3`` is an
attribute meant to be overridden. Nothing in either library is patched.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.base import Address, EmailAddress, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

CUSTOMER_NAME = "O'Brien Third Party Ltd"
ITEM_NAME = "Thirdparty Consulting"
# python-quickbooks neither throttles nor retries: an application keeps under QuickBooks' 10 requests a second per
# company itself (facts Q3; the simulator answers the 11th with a 429). This one waits after every answer.
PAUSE_SECONDS = 0.12


def pace(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A requests response hook (the session's public ``hooks``): at most about 8 API calls a second."""
    time.sleep(PAUSE_SECONDS)
    return response


def connect(cfg: dict[str, Any]) -> tuple[AuthClient, QuickBooks, dict[str, Any]]:
    """Refresh the grant's token with intuitlib, then open a QuickBooks client on the new access token."""
    auth = AuthClient(client_id=cfg["client_id"], client_secret=cfg["client_secret"],
                      redirect_uri="http://localhost/callback",
                      environment=cfg["sim_url"] + "/.well-known/openid_sandbox_configuration")
    auth.refresh(refresh_token=cfg["refresh_token"])
    seen = {"token_endpoint": auth.token_endpoint, "access_token_length": len(auth.access_token or ""),
            "refresh_token_rotated": auth.refresh_token != cfg["refresh_token"],
            "expires_in": auth.expires_in}
    qb = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=cfg["realm_id"],
                    minorversion=75)
    qb.api_url_v3 = cfg["sim_url"] + "/v3"
    qb.sandbox_api_url_v3 = cfg["sim_url"] + "/v3"
    qb.session.hooks["response"].append(pace)
    return auth, qb, seen


def customer_steps(qb: QuickBooks) -> dict[str, Any]:
    """Create, query back (quote escaping included), sparse update with the SyncToken, and a stale update refused."""
    customer = Customer()
    customer.DisplayName = CUSTOMER_NAME
    customer.GivenName = "Siobhan"
    customer.FamilyName = "O'Brien"
    customer.CompanyName = "O'Brien Third Party Ltd"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "siobhan@obrien.example"
    customer.BillAddr = Address()
    customer.BillAddr.Line1 = "1 Main Street"
    customer.BillAddr.City = "Boston"
    customer.BillAddr.Country = "United States"
    created = customer.save(qb=qb)

    found = Customer.filter(DisplayName=CUSTOMER_NAME, qb=qb)
    counted = Customer.count(f"DisplayName = '{CUSTOMER_NAME.replace(chr(39), chr(92) + chr(39))}'", qb=qb)

    current = Customer.get(created.Id, qb=qb)
    stale_token = current.SyncToken
    current.sparse = True
    current.CompanyName = "O'Brien Holdings"
    updated = current.save(qb=qb)

    stale = Customer.get(created.Id, qb=qb)
    stale.SyncToken = stale_token
    stale.sparse = True
    stale.Notes = "written with an old SyncToken"
    try:
        stale.save(qb=qb)
        stale_error: dict[str, Any] | None = None
    except QuickbooksException as exc:
        stale_error = {"type": type(exc).__name__, "code": exc.error_code, "message": exc.message}

    return {
        "id": created.Id, "created_sync_token": str(created.SyncToken),
        "created_country": created.BillAddr.Country if created.BillAddr else None,
        "found_ids": [c.Id for c in found], "found_names": [c.DisplayName for c in found], "count": counted,
        "updated_sync_token": str(updated.SyncToken), "updated_company": updated.CompanyName,
        "updated_given_name": updated.GivenName, "stale_error": stale_error,
    }


def item_steps(qb: QuickBooks) -> dict[str, Any]:
    """A Service item on the company's income account, found through the library's own ``all()`` query."""
    income = [a for a in _accounts(qb) if a["AccountType"] == "Income"][0]
    item = Item()
    item.Name = ITEM_NAME
    item.Type = "Service"
    item.UnitPrice = 120
    item.IncomeAccountRef = Ref()
    item.IncomeAccountRef.value = income["Id"]
    created = item.save(qb=qb)
    listed = Item.all(qb=qb)
    return {"id": created.Id, "income_account": income["Id"], "listed_names": sorted(i.Name for i in listed)}


def _accounts(qb: QuickBooks) -> list[dict[str, Any]]:
    answer = qb.query("SELECT * FROM Account WHERE Active = true")
    return list(answer["QueryResponse"].get("Account", []))


def invoice_steps(qb: QuickBooks, customer_id: str, item_id: str) -> dict[str, Any]:
    """An invoice of 3 x 120.00, read back by id and by a CustomerRef query."""
    line = SalesItemLine()
    line.Amount = 360
    line.Description = "Three hours"
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = item_id
    line.SalesItemLineDetail.Qty = 3
    line.SalesItemLineDetail.UnitPrice = 120
    invoice = Invoice()
    invoice.CustomerRef = Ref()
    invoice.CustomerRef.value = customer_id
    invoice.Line = [line]
    invoice.PrivateNote = "created by python-quickbooks"
    created = invoice.save(qb=qb)
    read = Invoice.get(created.Id, qb=qb)
    by_customer = Invoice.filter(CustomerRef=customer_id, qb=qb)
    return {
        "id": created.Id, "doc_number": read.DocNumber, "total": float(read.TotalAmt),
        "balance": float(read.Balance), "customer_ref": read.CustomerRef.value,
        "customer_name": read.CustomerRef.name, "note": read.PrivateNote,
        "item_lines": [{"amount": float(ln.Amount), "item": ln.SalesItemLineDetail.ItemRef.value,
                        "item_name": ln.SalesItemLineDetail.ItemRef.name}
                       for ln in read.Line if ln.DetailType == "SalesItemLineDetail"],
        "by_customer_ids": [i.Id for i in by_customer],
    }


def main(config_path: str) -> None:
    with open(config_path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    _, qb, token = connect(cfg)
    customer = customer_steps(qb)
    item = item_steps(qb)
    invoice = invoice_steps(qb, customer["id"], item["id"])
    json.dump({"token": token, "customer": customer, "item": item, "invoice": invoice}, sys.stdout, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
