"""In-memory state of one QuickBooks company (realm): entities as plain dicts plus the indexes queries use.

Objects are stored exactly as the API returns them; creation/update instants are kept beside them as epoch
floats so time filters and CDC never re-parse JSON strings.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from simulators.quickbooks.core import Clock, Leniency, qbo_time

NAME_ENTITIES = ("Customer", "Vendor", "Employee")
ENTITY_TYPES = ("Customer", "Vendor", "Employee", "Item", "Account", "TaxCode", "TaxRate", "Invoice")
TRANSACTIONS = ("Invoice",)
DEFAULT_REALM = "9341453050170123"
DELETED_SUFFIX = " (deleted)"

COUNTRY_CURRENCY = {
    "US": ("USD", "United States Dollar"),
    "GB": ("GBP", "British Pound Sterling"),
    "CA": ("CAD", "Canadian Dollar"),
    "AU": ("AUD", "Australian Dollar"),
    "FR": ("EUR", "Euro"),
    "IN": ("INR", "Indian Rupee"),
}


def name_key(name: str) -> str:
    """Uniqueness key of a name: QuickBooks ignores case and leading, trailing and repeated whitespace (facts Q1)."""
    return " ".join(name.split()).casefold()


class Realm:
    """One company: its objects, counters, indexes and settings."""

    def __init__(self, realm_id: str, clock: Clock, lenient: Leniency | None = None) -> None:
        self.id = realm_id
        self.clock = clock
        self.lenient = lenient if lenient is not None else Leniency()
        self.rows: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in ENTITY_TYPES}
        self.times: dict[str, dict[str, tuple[float, float]]] = {t: {} for t in ENTITY_TYPES}
        self.next_ids: dict[str, int] = {t: 1 for t in ENTITY_TYPES}
        self.names: dict[str, tuple[str, str]] = {}
        self.item_names: dict[str, str] = {}
        self.account_names: dict[str, str] = {}
        self.by_customer: dict[str, set[str]] = {}
        self.doc_numbers: dict[str, set[str]] = {}
        self.last_doc_number: str | None = None
        self.tombstones: dict[str, dict[str, float]] = {t: {} for t in ENTITY_TYPES}
        self.address_seq = 0
        self.payment_seq = 0
        self.voided: set[str] = set()
        self.opening_balances: dict[str, Decimal] = {}
        self.version = 0
        self.query_cache: dict[tuple[Any, ...], list[str]] = {}
        self.country = "US"
        self.preferences: dict[str, Any] = {}
        self.company_info: dict[str, Any] = {}

    # ---- ids and stamps -------------------------------------------------------------------------
    def new_id(self, etype: str) -> str:
        value = self.next_ids[etype]
        self.next_ids[etype] = value + 1
        return str(value)

    def reserve_id(self, etype: str, given: str) -> None:
        if given.isdigit() and int(given) >= self.next_ids[etype]:
            self.next_ids[etype] = int(given) + 1

    def new_address_id(self) -> str:
        self.address_seq += 1
        return str(self.address_seq)

    def currency(self) -> dict[str, str]:
        code, name = COUNTRY_CURRENCY.get(self.country, ("USD", "United States Dollar"))
        return {"value": code, "name": name}

    def touch(self) -> None:
        """Any write invalidates cached query results."""
        self.version += 1
        if self.query_cache:
            self.query_cache.clear()

    # ---- storage --------------------------------------------------------------------------------
    def get(self, etype: str, obj_id: str) -> dict[str, Any] | None:
        return self.rows[etype].get(obj_id)

    def store(self, etype: str, obj: dict[str, Any], times: tuple[float, float] | None = None) -> dict[str, Any]:
        """Save a version (callers set SyncToken); stamp MetaData and keep indexes and times in step."""
        obj_id = obj["Id"]
        old = self.rows[etype].get(obj_id)
        if times is None:
            now = float(int(self.clock.ts()))  # MetaData has whole seconds; compare what clients see
            times = (now, now) if old is None else (self.times[etype][obj_id][0], now)
        obj["MetaData"] = {"CreateTime": qbo_time(times[0]), "LastUpdatedTime": qbo_time(times[1])}
        self.times[etype][obj_id] = times
        self._unindex(etype, old)
        self.rows[etype][obj_id] = obj
        self._index(etype, obj)
        self.tombstones[etype].pop(obj_id, None)
        self.touch()
        return obj

    def delete(self, etype: str, obj_id: str) -> None:
        old = self.rows[etype].pop(obj_id, None)
        self.times[etype].pop(obj_id, None)
        self._unindex(etype, old)
        self.tombstones[etype][obj_id] = self.clock.ts()
        self.touch()

    def _index(self, etype: str, obj: dict[str, Any]) -> None:
        if etype in NAME_ENTITIES:
            self.names[name_key(obj["DisplayName"])] = (etype, obj["Id"])
        elif etype == "Item":
            self.item_names[name_key(obj["Name"])] = obj["Id"]
        elif etype == "Account":
            self.account_names[name_key(obj["Name"])] = obj["Id"]
        elif etype == "Invoice":
            self.by_customer.setdefault(obj["CustomerRef"]["value"], set()).add(obj["Id"])
            if obj.get("DocNumber"):
                self.doc_numbers.setdefault(obj["DocNumber"], set()).add(obj["Id"])

    def _unindex(self, etype: str, obj: dict[str, Any] | None) -> None:
        if obj is None:
            return
        if etype in NAME_ENTITIES:
            self.names.pop(name_key(obj["DisplayName"]), None)
        elif etype == "Item":
            self.item_names.pop(name_key(obj["Name"]), None)
        elif etype == "Account":
            self.account_names.pop(name_key(obj["Name"]), None)
        elif etype == "Invoice":
            self.by_customer.get(obj["CustomerRef"]["value"], set()).discard(obj["Id"])
            if obj.get("DocNumber"):
                self.doc_numbers.get(obj["DocNumber"], set()).discard(obj["Id"])

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {etype: [copy.deepcopy(o) for o in rows.values()] for etype, rows in self.rows.items()}


def default_preferences(realm: Realm) -> dict[str, Any]:
    """What a new US company answers on GET /preferences (the parts integrators read)."""
    currency = realm.currency()
    return {
        "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": False, "CustomerTerminology": "Customers"},
        "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True, "QuantityWithPriceAndRate": True, "QuantityOnHand": True},
        "SalesFormsPrefs": {
            "CustomTxnNumbers": False,
            "AllowDeposit": False,
            "AllowDiscount": True,
            "AllowShipping": False,
            "DefaultTerms": {"value": "3"},
            "ApplyTaxAfterDiscount": False,
            "AutoApplyCredit": True,
            "UsingPriceLevels": False,
        },
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False, "TaxGroupCodeRef": {"value": "2"}},
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": currency["value"]}},
        "OtherPrefs": {"NameValue": [{"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": "Thank you for your business."}]},
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "0",
    }


def default_company_info(realm: Realm, name: str = "Sandbox Company_US_1") -> dict[str, Any]:
    return {
        "CompanyName": name,
        "LegalName": name,
        "CompanyAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
        "CustomerCommunicationAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
        "LegalAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
        "PrimaryPhone": {},
        "CompanyStartDate": "2026-01-01",
        "FiscalYearStartMonth": "January",
        "Country": realm.country,
        "Email": {"Address": "noreply@quickbooks.com"},
        "WebAddr": {},
        "SupportedLanguages": "en",
        "NameValue": [{"Name": "NeoEnabled", "Value": "true"}, {"Name": "IndustryType", "Value": "Landscaping Services"}],
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "0",
    }
