"""Synchroteam part reference -> QuickBooks Item: linked once, then reused.

Resolution order for a part not linked yet: an active Item whose ``Sku`` is the part reference, then one whose
``Name`` is the part reference, then one whose ``Name`` is the part's name (when no other part is linked to it).
Otherwise a new Item is created, named after the part **reference** (unique and stable in Synchroteam, where
part names may repeat or change), with the part name as its description, the reference as its SKU, type
``Service`` for Synchroteam services (``NonInventory`` for parts, or the ``item_type`` option for both), and the
income account from the ``income_account_id`` option, else the first active Income account.
Lines without a part but with an amount use the Item named ``Services`` (found or created the same way).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from stqbo_api.errors import ApiError, AuthError, DuplicateNameError, RetriableApiError
from stqbo_api.options import QuickBooksOptions
from stqbo_api.quickbooks import escape_query_value
from stqbo_store import Scope
from stqbo_store import mapping as mapping_db
from stqbo_sync import request_ids
from stqbo_sync.clients import QuickBooksApi, SynchroteamApi
from stqbo_sync.invoice_payload import DRY_RUN_ITEM, PayloadError, Settings, build_invoice, taxed

log = logging.getLogger(__name__)
MAX_NAME = 100
FALLBACK_ITEM = "Services"
_BAD_NAME_CHARS = re.compile(r"[:\t\r\n]+")


def item_name(text: str) -> str:
    """QuickBooks Item names: no colon, tab or newline; at most 100 characters."""
    return _BAD_NAME_CHARS.sub(" ", text).strip()[:MAX_NAME]


class _ItemFailed(Exception):
    """An item could not be resolved while the body asked for it (carries the original error)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class ItemResolver:
    scope: Scope
    qbo: QuickBooksApi
    st: SynchroteamApi
    tenant_key: str
    us: bool
    options: QuickBooksOptions
    dry_run: bool = False
    links: dict[str, str] = field(default_factory=dict)
    planned: dict[str, str] = field(default_factory=dict)     # dry run: part ref -> item name it would create
    created: list[str] = field(default_factory=list)
    _income: str | None = None
    _sku_refused: bool = False

    def __post_init__(self) -> None:
        self.links = mapping_db.item_links(self.scope)

    def refs_for(self, invoice: dict[str, Any], customer_id: str | None, settings: Settings
                 ) -> tuple[dict[str, dict[str, str]], Exception | None]:
        """The ItemRef of each part reference of one invoice, resolved (linked, found or created) before the pure
        planner builds its body: line by line, in the order building the body asks for them, so the same items are
        found, created and linked as when the body was built with `item_for` itself. Stops at the first reference
        that cannot be resolved (returned as the error), and where building the body fails for another reason
        (the planner meets the same error and reports it)."""
        refs: dict[str, dict[str, str]] = {}

        def item_for(part_ref: str, line: dict[str, Any]) -> dict[str, str]:
            try:
                ref = self.item_for(part_ref, line)
            except Exception as err:
                raise _ItemFailed(err) from err
            refs[part_ref.strip()] = ref
            return ref

        try:
            build_invoice(invoice, customer_id or "0", item_for, settings)
        except _ItemFailed as failed:
            return refs, failed.error
        except Exception:   # not an item's fault: the planner reports it
            log.debug("invoice %s: body refused before all items were resolved", invoice.get("id"), exc_info=True)
        return refs, None

    def item_for(self, part_ref: str, line: dict[str, Any]) -> dict[str, str]:
        """The ItemRef for a line; links, finds or creates the Item (created and linked at once, committed)."""
        key = part_ref.strip()
        if key in self.links:
            return {"value": self.links[key]}
        part = self.st.get_part(key) if key else None
        found, how = self._find(key, part)
        if found is None:
            if self.dry_run:
                self.planned[key] = item_name(key or FALLBACK_ITEM)
                return {"value": DRY_RUN_ITEM, "name": self.planned[key]}
            found, how = self._create_or_adopt(key, part, line)
        item_id = str(found["Id"])
        if not self.dry_run:
            mapping_db.add_item_link(self.scope, key, item_id, how)
            self.scope.conn.commit()
        self.links[key] = item_id
        return {"value": item_id}

    def _find(self, ref: str, part: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
        linked = set(self.links.values())
        if not ref:
            return self._one(f"SELECT * FROM Item WHERE Name = '{escape_query_value(FALLBACK_ITEM)}'"), "name"
        hit = self._by_sku(ref)
        if hit is not None:
            return hit, "sku"
        hit = self._one(f"SELECT * FROM Item WHERE Name = '{escape_query_value(item_name(ref))}'")
        if hit is not None:
            return hit, "name"
        name = item_name((part or {}).get("name") or "")
        if name and name != item_name(ref):
            hit = self._one(f"SELECT * FROM Item WHERE Name = '{escape_query_value(name)}'")
            if hit is not None and str(hit["Id"]) not in linked:
                return hit, "name"
        return None, ""

    def _by_sku(self, ref: str) -> dict[str, Any] | None:
        """Sku as a query filter is UNCONFIRMED on the real API: if QuickBooks refuses it, look by Name only."""
        if self._sku_refused:
            return None
        try:
            return self._one(f"SELECT * FROM Item WHERE Sku = '{escape_query_value(ref)}'")
        except (AuthError, RetriableApiError):
            raise
        except ApiError as err:
            log.info("QuickBooks refused a query on Item.Sku (%s); items are found by Name", err.code)
            self._sku_refused = True
            return None

    def _one(self, statement: str) -> dict[str, Any] | None:
        for row in self.qbo.query(statement):
            if row.get("Active", True) and row.get("Type") != "Category":
                return dict(row)
        return None

    def _create_or_adopt(self, ref: str, part: dict[str, Any] | None, line: dict[str, Any]
                         ) -> tuple[dict[str, Any], str]:
        """Create the item; when QuickBooks says the name is taken (names are unique ignoring case, lookups are
        not), use the item it names if it is active, else say which item blocks the name."""
        try:
            created = self._create(ref, part, line)
        except DuplicateNameError as err:
            existing = self.qbo.get("Item", err.existing_id) if err.existing_id else None
            if existing and existing.get("Active", True) and existing.get("Type") != "Category":
                return existing, "name"
            name = item_name(ref or FALLBACK_ITEM)
            raise PayloadError(f"a QuickBooks item named '{name}' (maybe inactive, or a category) blocks the new item "
                               f"for part '{ref}': reactivate or rename it", code="item_name", field="ItemRef") from err
        self.created.append(ref or FALLBACK_ITEM)
        return created, "created"

    def _create(self, ref: str, part: dict[str, Any] | None, line: dict[str, Any]) -> dict[str, Any]:
        body = self.item_body(ref, part, line)
        # the run is part of the id: a task retry replays its own create, while a later run (after the item was
        # deleted or deactivated by a person) really creates a new one; Sku/Name lookups above prevent duplicates
        return self.qbo.create("Item", body, request_ids.invoice_write(self.tenant_key, 0, f"{body['Name']}|{self.scope.run_id}", "item"))

    def item_body(self, ref: str, part: dict[str, Any] | None, line: dict[str, Any]) -> dict[str, Any]:
        part = part or {}
        kind = self.options.item_type or ("Service" if (part.get("type") or "service") == "service"
                                          else "NonInventory")
        body: dict[str, Any] = {"Name": item_name(ref or FALLBACK_ITEM), "Type": kind,
                                "IncomeAccountRef": {"value": self.income_account()}}
        if ref:
            body["Sku"] = ref[:MAX_NAME]
        description = part.get("name") or part.get("description") or line.get("description")
        if description:
            body["Description"] = str(description)[:4000]
        if part.get("price") not in (None, ""):
            body["UnitPrice"] = float(part["price"])
        if self.us:
            body["Taxable"] = taxed(part.get("tax")) or taxed(line.get("tax"))
        return body

    def income_account(self) -> str:
        if self._income is None:
            configured = self.options.income_account_id
            if configured:
                self._income = configured
            else:
                rows = sorted(self.qbo.query("SELECT * FROM Account WHERE AccountType = 'Income'"),
                              key=lambda a: (len(str(a["Id"])), str(a["Id"])))
                active = [a for a in rows if a.get("Active", True)]
                if not active:
                    raise PayloadError("QuickBooks has no active Income account for new items; set income_account_id "
                                       "in the QuickBooks connection extra", code="config", field="IncomeAccountRef")
                self._income = str(active[0]["Id"])
        return self._income
