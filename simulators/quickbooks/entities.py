"""Validation and normalisation of name-list entities (Customer, Vendor, Employee, Item, Account).

Each builder turns a request body into exactly the object QuickBooks would store and return: trimmed strings,
empty values dropped, server defaults filled in, read-only fields kept from the stored version, and the
documented faults raised for anything QuickBooks rejects.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from simulators.quickbooks.core import (
    QboFault,
    bad_chars,
    bad_length,
    bad_property,
    business,
    duplicate_name,
    invalid_id,
    invalid_ref,
    not_found,
    required,
    stale,
)
from simulators.quickbooks.countries import normalise_country
from simulators.quickbooks.store import DELETED_SUFFIX, Realm, name_key

META = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status", "CustomField", "AttachableRef"}
PERSON = {
    "Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "DisplayName", "PrintOnCheckName", "Active",
    "PrimaryPhone", "AlternatePhone", "Mobile", "Fax", "PrimaryEmailAddr", "WebAddr", "OtherContactInfo",
    "OtherAddr", "ContactName", "AltContactName", "Notes", "Organization", "UserId", "Source",
}
WRITABLE = {
    "Customer": PERSON | {
        "CompanyName", "DefaultTaxCodeRef", "Taxable", "BillAddr", "ShipAddr", "Job", "BillWithParent", "ParentRef",
        "CustomerTypeRef", "SalesTermRef", "SalesRepRef", "PaymentMethodRef", "PriceLevelRef", "CreditLimit",
        "AcctNum", "PreferredDeliveryMethod", "ResaleNum", "JobInfo", "TaxExemptionReasonId",
        "PrimaryTaxIdentifier", "SecondaryTaxIdentifier", "ARAccountRef", "GSTIN", "GSTRegistrationType",
        "BusinessNumber", "ClientEntityId", "TaxRegime", "CCDetail",
    },
    "Vendor": PERSON | {
        "CompanyName", "BillAddr", "TaxIdentifier", "TermRef", "AcctNum", "Vendor1099", "T4AEligible",
        "T5018Eligible", "CostRate", "BillRate", "APAccountRef", "VendorPaymentBankDetail", "TaxReportingBasis",
        "GSTIN", "BusinessNumber", "GSTRegistrationType", "HasTPAR", "VendorContactInfo",
    },
    "Employee": PERSON | {
        "PrimaryAddr", "EmployeeNumber", "SSN", "BillableTime", "BillRate", "CostRate", "BirthDate", "Gender",
        "HiredDate", "ReleasedDate", "EmployeeType",
    },
    "Item": {
        "Name", "Sku", "Description", "Active", "SubItem", "ParentRef", "Taxable", "SalesTaxIncluded", "UnitPrice",
        "Type", "IncomeAccountRef", "PurchaseDesc", "PurchaseTaxIncluded", "PurchaseCost", "ExpenseAccountRef",
        "AssetAccountRef", "TrackQtyOnHand", "QtyOnHand", "InvStartDate", "SalesTaxCodeRef", "PurchaseTaxCodeRef",
        "ReorderPoint", "PrefVendorRef", "ClassRef", "AbatementRate", "ReverseChargeRate", "ServiceType",
        "ItemCategoryType", "TaxClassificationRef", "UQCDisplayText", "UQCId", "Source",
    },
    "Account": {
        "Name", "SubAccount", "ParentRef", "Description", "Active", "Classification", "AccountType",
        "AccountSubType", "AcctNum", "TaxCodeRef", "TxnLocationType", "AccountAlias", "OpeningBalanceDate",
    },
}
CREATE_ONLY = {
    "Customer": {"Balance", "OpenBalanceDate", "CurrencyRef"},
    "Vendor": {"Balance", "OpenBalanceDate", "CurrencyRef"},
    "Employee": set(),
    "Item": set(),
    "Account": {"CurrencyRef", "OpeningBalance"},
}
READ_ONLY = {
    "Customer": {"FullyQualifiedName", "Level", "BalanceWithJobs", "IsProject", "V4IDPseudonym", "RootCustomerRef",
                 "OverDueBalance", "TotalRevenue", "TotalExpense"},
    "Vendor": {"V4IDPseudonym"},
    "Employee": {"V4IDPseudonym"},
    "Item": {"FullyQualifiedName", "Level"},
    "Account": {"FullyQualifiedName", "CurrentBalance", "CurrentBalanceWithSubAccounts"},
}
NO_SPECIAL_CHARS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "DisplayName", "PrintOnCheckName")
MAX_LEN = {
    "DisplayName": 500, "GivenName": 100, "MiddleName": 100, "FamilyName": 100, "CompanyName": 100,
    "Title": 16, "Suffix": 16, "PrintOnCheckName": 110, "Notes": 1024, "Name": 100, "Description": 4000,
    "Sku": 100, "AcctNum": 100, "ResaleNum": 16,
}
PHONES = ("PrimaryPhone", "AlternatePhone", "Mobile", "Fax")
ADDRESSES = ("BillAddr", "ShipAddr", "PrimaryAddr", "OtherAddr")
ADDRESS_MAX = {"Line1": 500, "Line2": 500, "Line3": 500, "Line4": 500, "Line5": 500, "City": 255,
               "CountrySubDivisionCode": 255, "Country": 255, "PostalCode": 30}
ITEM_TYPES = ("Service", "NonInventory", "Inventory", "Category")
ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset", "Other Asset": "Asset",
    "Accounts Receivable": "Asset", "Equity": "Equity", "Expense": "Expense", "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense", "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Long Term Liability": "Liability", "Other Current Liability": "Liability", "Income": "Revenue",
    "Other Income": "Revenue",
}
ACCOUNT_KINDS = {"IncomeAccountRef": ("Revenue",), "ExpenseAccountRef": ("Expense",), "AssetAccountRef": ("Asset",)}
ACCOUNT_SUBTYPE = {"Income": "SalesOfProductIncome", "Cost of Goods Sold": "SuppliesMaterialsCogs",
                   "Expense": "OtherMiscellaneousServiceCost", "Other Current Asset": "Inventory",
                   "Bank": "Checking", "Accounts Receivable": "AccountsReceivable"}


def clean(value: Any) -> Any:
    """Trim strings and drop null/empty members, as QBO does before it stores anything."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = clean(item)
            if item is None or item == "":
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def check_fields(etype: str, body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise bad_property(
                f'Unrecognized field "{key}" (class com.intuit.schema.finance.v3.{etype}), not marked as ignorable', key
            )


def check_id(value: Any) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise invalid_id(value)
    return str(int(text))


def load_for_update(realm: Realm, etype: str, body: dict[str, Any]) -> dict[str, Any]:
    """The stored object an update targets, after the Id and SyncToken checks."""
    obj_id = check_id(body["Id"])
    current = realm.get(etype, obj_id)
    if current is None:
        raise not_found()
    if "SyncToken" not in body or body["SyncToken"] in (None, ""):
        raise required("SyncToken")
    if str(body["SyncToken"]).strip() != current["SyncToken"]:
        raise stale()
    return current


def bump(obj: dict[str, Any], current: dict[str, Any] | None) -> None:
    obj["SyncToken"] = "0" if current is None else str(int(current["SyncToken"]) + 1)


def check_text(obj: dict[str, Any], realm: Realm) -> None:
    for field, text in obj.items():
        if not isinstance(text, str):
            continue
        if field in NO_SPECIAL_CHARS and (":" in text or "\t" in text or "\n" in text or "\r" in text):
            raise bad_chars(field)
        maximum = MAX_LEN.get(field)
        if maximum is not None and len(text) > maximum:
            raise bad_length(field, maximum, len(text))
    for field in PHONES:
        number = (obj.get(field) or {}).get("FreeFormNumber")
        if isinstance(number, str) and len(number) > 21:
            raise bad_length(f"{field}.FreeFormNumber", 21, len(number))
    email = (obj.get("PrimaryEmailAddr") or {}).get("Address")
    if isinstance(email, str):
        if len(email) > 100:
            raise bad_length("PrimaryEmailAddr.Address", 100, len(email))
        if "@" not in email or "." not in email:
            raise business(f"Email Address does not conform to the syntax rules of RFC 822. Supplied value:{email}",
                           "PrimaryEmailAddr")
    uri = (obj.get("WebAddr") or {}).get("URI")
    if isinstance(uri, str) and len(uri) > 1000:
        raise bad_length("WebAddr.URI", 1000, len(uri))
    for field in ADDRESSES:
        address = obj.get(field)
        if isinstance(address, dict):
            for part, maximum in ADDRESS_MAX.items():
                text = address.get(part)
                if isinstance(text, str) and len(text) > maximum:
                    raise bad_length(f"{field}.{part}", maximum, len(text))
            if "Id" not in address:
                address["Id"] = realm.new_address_id()


def merge_input(etype: str, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool) -> dict[str, Any]:
    """Start from the stored object (sparse) or from its read-only part only (create / full update)."""
    data = clean(body)
    check_fields(etype, data, WRITABLE[etype] | CREATE_ONLY[etype] | READ_ONLY[etype] | META)
    if current is not None and sparse:
        obj = copy.deepcopy(current)
    elif current is not None:
        keep = READ_ONLY[etype] | CREATE_ONLY[etype] | {"Id", "SyncToken", "domain", "sparse", "MetaData"}
        obj = {k: copy.deepcopy(v) for k, v in current.items() if k in keep}
    else:
        obj = {}
    for key, value in data.items():
        if key in WRITABLE[etype] or (current is None and key in CREATE_ONLY[etype]):
            obj[key] = value
    return obj


def as_bool(value: Any, element: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_property(f"{element} must be a boolean. Supplied value:{value}", element)


def apply_display_name(
    etype: str, obj: dict[str, Any], current: dict[str, Any] | None, sparse: bool, body: dict[str, Any]
) -> None:
    """DisplayName rules: built from the name parts when missing; 6080 when there is nothing to build from."""
    if not obj.get("DisplayName") and current is not None and sparse:
        obj["DisplayName"] = current["DisplayName"]
    if not obj.get("DisplayName"):
        parts = [obj.get(f) for f in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        built = " ".join(p for p in parts if p)
        if not built:
            raise QboFault(
                "6080", "No Name Provided",
                "Title, GivenName, MiddleName, FamilyName, DisplayName, Suffix - one of these must be non-empty",
                "DisplayName",
            )
        obj["DisplayName"] = built


SUFFIX_RE = re.compile(r" \(deleted(?: \d+)?\)$")


def strip_suffix(name: str) -> str:
    return SUFFIX_RE.sub("", name)


def apply_active(realm: Realm, etype: str, obj: dict[str, Any], current: dict[str, Any] | None, name_field: str) -> None:
    """Inactive records always carry the " (deleted)" suffix; reactivation drops it unless the client renamed."""
    active = as_bool(obj.get("Active", True), "Active")
    obj["Active"] = active
    name = obj[name_field]
    if not active and not SUFFIX_RE.search(name):
        candidate, number = name + DELETED_SUFFIX, 2
        while name_taken(realm, etype, candidate, obj.get("Id")):
            candidate, number = f"{name} (deleted {number})", number + 1
        obj[name_field] = candidate
    was_active = current is None or current.get("Active", True)
    if active and not was_active and current is not None and name == current[name_field]:
        obj[name_field] = strip_suffix(name)


def name_taken(realm: Realm, etype: str, name: str, obj_id: str | None) -> bool:
    key = name_key(name)
    if etype == "Item":
        hit = realm.item_names.get(key)
        return hit is not None and hit != obj_id
    if etype == "Account":
        hit = realm.account_names.get(key)
        return hit is not None and hit != obj_id
    found = realm.names.get(key)
    return found is not None and found != (etype, obj_id)


def check_unique_name(realm: Realm, etype: str, obj: dict[str, Any]) -> None:
    """One DisplayName across Customer, Vendor and Employee, inactive ones included, by QuickBooks' rule
    (`name_key`); the 6240 does not say who holds the name unless the lenient switch asks for it."""
    hit = realm.names.get(name_key(obj["DisplayName"]))
    if hit is not None and hit != (etype, obj.get("Id")):
        raise duplicate_name(hit[1] if realm.lenient.duplicate_name_with_id else None)


def resolve_ref(realm: Realm, etype: str, ref: Any, element: str, active_only: bool = True) -> dict[str, Any]:
    """A `{"value": Id}` reference must name an existing (active) object, else 2500."""
    if not isinstance(ref, dict) or not str(ref.get("value", "")).strip():
        raise required(element)
    target = realm.get(etype, str(ref["value"]).strip())
    if target is None or (active_only and target.get("Active") is False):
        raise invalid_ref(element)
    return target


def customer_parent(realm: Realm, obj: dict[str, Any]) -> None:
    """Sub-customers: Job, Level and the colon-joined FullyQualifiedName (at most 4 levels deep)."""
    parent_ref = obj.get("ParentRef")
    if not parent_ref:
        obj["Job"] = as_bool(obj.get("Job", False), "Job")
        obj.pop("Level", None)
        obj["FullyQualifiedName"] = obj["DisplayName"]
        return
    parent = resolve_ref(realm, "Customer", parent_ref, "ParentRef")
    if parent["Id"] == obj.get("Id"):
        raise business("A customer cannot be its own parent.", "ParentRef")
    level = parent.get("Level", 0) + 1
    if level > 4:
        raise business("Sub-customers can be nested at most 4 levels deep.", "ParentRef")
    obj["ParentRef"] = {"value": parent["Id"]}
    obj["Job"] = True
    obj["Level"] = level
    obj["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{obj['DisplayName']}"


def build_person(
    realm: Realm, etype: str, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool
) -> dict[str, Any]:
    obj = merge_input(etype, body, current, sparse)
    if current is not None and sparse and "DisplayName" in body and not clean(body.get("DisplayName")):
        obj["DisplayName"] = current["DisplayName"]
    apply_display_name(etype, obj, current, sparse, body)
    check_text(obj, realm)
    if current is not None:
        obj["Id"] = current["Id"]
    apply_active(realm, etype, obj, current, "DisplayName")
    check_unique_name(realm, etype, obj)
    if etype == "Customer":
        customer_defaults(realm, obj, current)
        customer_countries(realm, obj)
    elif etype == "Vendor":
        obj.setdefault("Vendor1099", False)
        obj.setdefault("Balance", 0)
        obj.setdefault("CurrencyRef", realm.currency())
    else:
        obj.setdefault("BillableTime", False)
    if not obj.get("PrintOnCheckName"):
        obj["PrintOnCheckName"] = strip_suffix(obj["DisplayName"])[:110]
    obj["domain"] = "QBO"
    obj["sparse"] = False
    return obj


def customer_defaults(realm: Realm, obj: dict[str, Any], current: dict[str, Any] | None) -> None:
    obj["Taxable"] = as_bool(obj.get("Taxable", True), "Taxable")
    obj["BillWithParent"] = as_bool(obj.get("BillWithParent", False), "BillWithParent")
    customer_parent(realm, obj)
    obj.setdefault("Balance", 0)
    obj.setdefault("BalanceWithJobs", obj["Balance"])
    obj.setdefault("CurrencyRef", realm.currency())
    obj.setdefault("PreferredDeliveryMethod", "Print")
    if obj.get("DefaultTaxCodeRef"):
        code = str(obj["DefaultTaxCodeRef"].get("value", ""))
        if code not in ("TAX", "NON") and realm.get("TaxCode", code) is None:
            raise invalid_ref("DefaultTaxCodeRef")
    elif obj["Taxable"] and realm.country == "US" and realm.get("TaxCode", "2") is not None:
        obj["DefaultTaxCodeRef"] = {"value": "2"}
    if current is not None and current.get("Active", True) and obj["Active"] is False and current.get("Balance", 0):
        raise business(
            "Delete List Has Balance Error: The entity you are trying to delete has an open balance.", "Active"
        )


def customer_countries(realm: Realm, obj: dict[str, Any]) -> None:
    """QuickBooks answers address countries as ISO 3166 alpha-3 ("United States" -> "USA", facts Q7)."""
    if realm.lenient.countries_as_sent:
        return
    for field in ("BillAddr", "ShipAddr"):
        address = obj.get(field)
        if isinstance(address, dict) and isinstance(address.get("Country"), str):
            address["Country"] = normalise_country(address["Country"])


def build_item(realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool) -> dict[str, Any]:
    obj = merge_input("Item", body, current, sparse)
    if not obj.get("Name"):
        raise required("Name")
    if any(ch in obj["Name"] for ch in ":\t\n\r"):
        raise bad_chars("Name")
    check_text(obj, realm)
    item_type = obj.get("Type")
    if not item_type:
        raise required("Type")
    if item_type not in ITEM_TYPES:
        raise bad_property(f"Type has an invalid value. Supplied value:{item_type}", "Type")
    if current is not None:
        obj["Id"] = current["Id"]
    item_accounts(realm, obj, item_type)
    apply_active(realm, "Item", obj, current, "Name")
    hit = realm.item_names.get(name_key(obj["Name"]))
    if hit is not None and hit != obj.get("Id"):
        raise duplicate_name(hit)
    obj["FullyQualifiedName"] = obj["Name"]
    obj["Taxable"] = as_bool(obj.get("Taxable", False), "Taxable")
    obj.setdefault("UnitPrice", 0)
    obj.setdefault("PurchaseCost", 0)
    obj.setdefault("TrackQtyOnHand", item_type == "Inventory")
    obj.setdefault("SalesTaxIncluded", False)
    obj.setdefault("PurchaseTaxIncluded", False)
    obj["domain"] = "QBO"
    obj["sparse"] = False
    return obj


def item_accounts(realm: Realm, obj: dict[str, Any], item_type: str) -> None:
    """IncomeAccountRef is required for Service and Inventory; NonInventory needs an income or expense account."""
    needs = {"Service": ("IncomeAccountRef",), "Inventory": ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef")}
    for field in needs.get(item_type, ()):
        if not obj.get(field):
            raise required(field)
    if item_type == "NonInventory" and not obj.get("IncomeAccountRef") and not obj.get("ExpenseAccountRef"):
        raise required("IncomeAccountRef")
    for field, classes in ACCOUNT_KINDS.items():
        if obj.get(field):
            account = resolve_ref(realm, "Account", obj[field], field)
            if account.get("Classification") not in classes:
                raise business(
                    f"Invalid account type: {field} must name {' or '.join(classes)} account, "
                    f"not {account.get('AccountType')}.", field)
            obj[field] = {"value": account["Id"], "name": account["Name"]}


def build_account(realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool) -> dict[str, Any]:
    obj = merge_input("Account", body, current, sparse)
    if not obj.get("Name"):
        raise required("Name")
    if any(ch in obj["Name"] for ch in ":\t\n\r"):
        raise bad_chars("Name")
    check_text(obj, realm)
    account_type = obj.get("AccountType")
    if not account_type:
        raise required("AccountType")
    if account_type not in ACCOUNT_CLASSIFICATION:
        raise bad_property(f"AccountType has an invalid value. Supplied value:{account_type}", "AccountType")
    if current is not None:
        obj["Id"] = current["Id"]
    apply_active(realm, "Account", obj, current, "Name")
    hit = realm.account_names.get(name_key(obj["Name"]))
    if hit is not None and hit != obj.get("Id"):
        raise duplicate_name(hit)
    obj["Classification"] = ACCOUNT_CLASSIFICATION[account_type]
    obj.setdefault("AccountSubType", ACCOUNT_SUBTYPE.get(account_type, "OtherMiscellaneousIncome"))
    obj["FullyQualifiedName"] = obj["Name"]
    obj["SubAccount"] = False
    obj.setdefault("CurrentBalance", 0)
    obj.setdefault("CurrentBalanceWithSubAccounts", 0)
    obj.setdefault("CurrencyRef", realm.currency())
    obj.pop("OpeningBalance", None)
    obj["domain"] = "QBO"
    obj["sparse"] = False
    return obj
