"""New companies, seeding through /_sim/seed, and the `--seed demo` company.

A new realm looks like a freshly created US QuickBooks company: Preferences, CompanyInfo, a few accounts, and
the TAX/NON pseudo tax codes plus one sales TaxCode (Id 2, the customers' default) with an 8% TaxRate (Id 3).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from simulators.quickbooks import api
from simulators.quickbooks.core import QboFault, bad_property, parse_qbo_datetime, qbo_time
from simulators.quickbooks.store import Realm, default_company_info, default_preferences

if TYPE_CHECKING:
    from simulators.quickbooks.app import Simulator
    from simulators.quickbooks.core import Clock, Leniency

SEED_ORDER = ("Account", "TaxRate", "TaxCode", "Item", "Customer", "Vendor", "Employee", "Invoice")

DEFAULT_ACCOUNTS = [
    {"Id": "1", "Name": "Services", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome"},
    {"Id": "2", "Name": "Sales of Product Income", "AccountType": "Income", "AccountSubType": "SalesOfProductIncome"},
    {"Id": "3", "Name": "Cost of Goods Sold", "AccountType": "Cost of Goods Sold",
     "AccountSubType": "SuppliesMaterialsCogs"},
    {"Id": "4", "Name": "Inventory Asset", "AccountType": "Other Current Asset", "AccountSubType": "Inventory"},
    {"Id": "5", "Name": "Accounts Receivable (A/R)", "AccountType": "Accounts Receivable",
     "AccountSubType": "AccountsReceivable"},
]


def new_realm(realm_id: str, clock: Clock, lenient: Leniency | None = None) -> Realm:
    realm = Realm(realm_id, clock, lenient)
    now = qbo_time(clock.ts())
    realm.preferences = default_preferences(realm)
    realm.preferences["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
    realm.company_info = default_company_info(realm)
    realm.company_info["Id"] = "1"
    realm.company_info["MetaData"] = {"CreateTime": now, "LastUpdatedTime": now}
    for account in DEFAULT_ACCOUNTS:
        seed_one(realm, "Account", account)
    seed_tax_defaults(realm)
    return realm


def seed_tax_defaults(realm: Realm) -> None:
    for code in ("TAX", "NON"):
        store_tax(realm, "TaxCode", {"Id": code, "Name": code, "Description": code, "Taxable": code == "TAX",
                                     "TaxGroup": False})
    store_tax(realm, "TaxRate", {"Id": "3", "Name": "California", "Description": "California state sales tax",
                                 "RateValue": 8, "AgencyRef": {"value": "1"}, "SpecialTaxType": "NONE",
                                 "DisplayType": "ReadOnly"})
    store_tax(realm, "TaxCode", {
        "Id": "2", "Name": "California", "Description": "California sales tax", "Taxable": True, "TaxGroup": True,
        "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "3", "name": "California"},
                                                "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}]},
        "PurchaseTaxRateList": {"TaxRateDetail": []},
    })


def store_tax(realm: Realm, etype: str, obj: dict[str, Any]) -> dict[str, Any]:
    """TaxCode and TaxRate are read-only in the API; they only enter through seeding."""
    obj = copy.deepcopy(obj)
    if not obj.get("Name"):
        raise QboFault("2020", "Required param missing, need to supply the required value for the API",
                       "Required parameter Name is missing in the request", "Name")
    obj["Id"] = str(obj.get("Id") or realm.new_id(etype))
    realm.reserve_id(etype, obj["Id"])
    obj.setdefault("Active", True)
    obj.setdefault("domain", "QBO")
    obj["sparse"] = False
    obj["SyncToken"] = str(obj.get("SyncToken", "0"))
    if etype == "TaxRate" and "RateValue" not in obj:
        raise bad_property("RateValue is required for a TaxRate", "RateValue")
    times = seed_times(realm, obj)
    realm.store(etype, obj, times)
    return obj


def seed_times(realm: Realm, obj: dict[str, Any]) -> tuple[float, float] | None:
    meta = obj.get("MetaData")
    if not isinstance(meta, dict) or not meta.get("CreateTime"):
        return None
    created = parse_qbo_datetime(meta["CreateTime"])
    updated = parse_qbo_datetime(meta.get("LastUpdatedTime") or meta["CreateTime"])
    return created, updated


def seed_one(realm: Realm, etype: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Store one object given in the API's JSON, through the same rules as a create."""
    if etype in ("TaxCode", "TaxRate"):
        return store_tax(realm, etype, raw)
    body = dict(raw)  # clean() builds new nested objects, so the caller's dicts are never shared
    given_id = str(body.pop("Id", "") or "")
    times = seed_times(realm, body)
    for key in ("SyncToken", "MetaData", "sparse", "domain"):
        body.pop(key, None)
    balance = body.pop("Balance", None) if etype == "Invoice" else None
    obj = api.builder_for(etype)(realm, body, None, False, {"include": "allowduplicatedocnum"})
    if given_id:
        if realm.get(etype, given_id) is not None:
            raise bad_property(f"{etype} Id {given_id} already exists", "Id")
        realm.reserve_id(etype, given_id)
    obj["Id"] = given_id or realm.new_id(etype)
    obj["SyncToken"] = str(raw.get("SyncToken", "0"))
    if balance is not None:
        obj["Balance"] = float(balance)
    api.after_write(realm, etype, obj, None, times)
    return obj


def seed_payload(realm: Realm, payload: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    unknown = [k for k in payload if k not in SEED_ORDER]
    if unknown:
        raise bad_property(f"cannot seed {', '.join(unknown)}; use {', '.join(SEED_ORDER)}")
    stored: dict[str, list[dict[str, Any]]] = {}
    for etype in SEED_ORDER:
        for raw in payload.get(etype) or []:
            stored.setdefault(etype, []).append(seed_one(realm, etype, raw))
    return stored


def addr(line1: str, city: str, state: str, postal: str) -> dict[str, str]:
    return {"Line1": line1, "City": city, "CountrySubDivisionCode": state, "PostalCode": postal, "Country": "USA"}


DEMO_CUSTOMERS: list[tuple[str, str, str, str, str, dict[str, str]]] = [
    ("Amy's Bird Sanctuary", "Amy", "Lauterbach", "Birds@Intuit.com", "(650) 555-3311",
     addr("4581 Finch St.", "Bayshore", "CA", "94326")),
    ("Bill's Windsurf Shop", "Bill", "Lucchini", "Surf@Intuit.com", "(415) 444-6538",
     addr("12 Ocean Dr.", "Half Moon Bay", "CA", "94213")),
    ("Cool Cars", "Grace", "Pariente", "Cool_Cars@intuit.com", "(415) 555-9933",
     addr("65 Ocean Dr.", "Half Moon Bay", "CA", "94213")),
    ("Diego Rodriguez", "Diego", "Rodriguez", "Diego@Rodriguez.com", "(650) 555-4477",
     addr("321 Channing", "Palo Alto", "CA", "94303")),
    ("Dukes Basketball Camp", "Peter", "Dukes", "Dukes_bball@intuit.com", "(520) 420-5638",
     addr("25 Court St.", "Tucson", "AZ", "85719")),
    ("Dylan Sollfrank", "Dylan", "Sollfrank", "dylan@sollfrank.com", "(650) 555-2041",
     addr("18 Hillside Ave.", "Menlo Park", "CA", "94025")),
    ("Freeman Sporting Goods", "Kirby", "Freeman", "Sporting_goods@intuit.com", "(650) 555-0987",
     addr("370 Easy St.", "Middlefield", "CA", "94482")),
    ("Geeta Kalapatapu", "Geeta", "Kalapatapu", "Geeta@Kalapatapu.com", "(650) 555-0022",
     addr("1987 Main St.", "Middlefield", "CA", "94303")),
    ("Gevelber Photography", "Lisa", "Gevelber", "Photography@intuit.com", "(415) 222-4345",
     addr("1103 Cherry Rd.", "San Mateo", "CA", "94213")),
    ("Jeff's Jalopies", "Jeff", "Chin", "Jalopies@intuit.com", "(650) 555-8989",
     addr("12 Willow Rd.", "Menlo Park", "CA", "94305")),
    ("John Melton", "John", "Melton", "John@Melton.com", "(650) 555-5879",
     addr("85 Pine St.", "Menlo Park", "CA", "94304")),
    ("Kate Whelan", "Kate", "Whelan", "Kate@Whelan.com", "(650) 554-1479",
     addr("45 First St.", "Menlo Park", "CA", "94304")),
    ("Kookies by Kathy", "Kathy", "Kuplis", "qbwebsamplecompany@yahoo.com", "(650) 555-7896",
     addr("789 Sugar Lane", "Middlefield", "CA", "94303")),
    ("Mark Cho", "Mark", "Cho", "Mark@Cho.com", "(650) 554-1479",
     addr("36 Willow Rd", "Menlo Park", "CA", "94304")),
    ("Paulsen Medical Supplies", "Kathy", "Paulsen", "Medical@intuit.com", "(650) 557-8855",
     addr("900 Main St.", "Middlefield", "CA", "94303")),
    ("Pye's Cakes", "Karen", "Pye", "pyescakes@intuit.com", "(973) 555-4652",
     addr("350 Mountain View Dr.", "South Orange", "NJ", "07079")),
    ("Red Rock Diner", "Stephanie", "Martini", "qbwebsamplecompany@yahoo.com", "(650) 555-4973",
     addr("500 Red Rock Rd.", "Bayshore", "CA", "94326")),
    ("Rondonuwu Fruit and Vegi", "Shara", "Barnett", "Tony@Rondonuwu.com", "(650) 555-2645",
     addr("847 California Ave.", "San Jose", "CA", "95021")),
    ("Shara Barnett", "Shara", "Barnett", "Shara@Barnett.com", "(650) 555-4563",
     addr("19 Main St.", "Middlefield", "CA", "94303")),
    ("Sonnenschein Family Store", "Russ", "Sonnenschein", "Familiystore@intuit.com", "(650) 557-8463",
     addr("5647 Cypress Hill Ave.", "Middlefield", "CA", "94303")),
    ("Sushi by Katsuyuki", "Kaxuyuki", "Yanagawa", "Sushi@intuit.com", "(505) 570-0147",
     addr("898 Elm St.", "Maplewood", "NJ", "07040")),
    ("Travis Waldron", "Travis", "Waldron", "Travis@Waldron.com", "(650) 555-9735",
     addr("78 First St.", "Monlo Park", "CA", "94304")),
    ("Video Games by Dan", "Dan", "Miller", "Videogames@intuit.com", "(650) 555-3456",
     addr("1520 Main St.", "Middlefield", "CA", "94303")),
    ("Wedding Planning by Whitney", "Whitney", "Johnson", "Dream_Wedding@intuit.com", "(650) 557-2473",
     addr("135 Broadway", "Palo Alto", "CA", "94303")),
    ("Ellie's Garden Center", "Ellie", "Marquez", "ellie@gardencenter.example", "(408) 555-0113",
     addr("77 Orchard Way", "Campbell", "CA", "95008")),
    ("Hudson & Sons Roofing", "Mark", "Hudson", "office@hudsonroofing.example", "(510) 555-0178",
     addr("2210 Foothill Blvd.", "Oakland", "CA", "94601")),
    ("Lakeside Dental Care", "Priya", "Natarajan", "frontdesk@lakesidedental.example", "(925) 555-0164",
     addr("4 Lakeside Plaza", "Walnut Creek", "CA", "94596")),
    ("Oak Street Bakery", "Tom", "Olsen", "orders@oakstreetbakery.example", "(650) 555-0190",
     addr("112 Oak St.", "San Carlos", "CA", "94070")),
    ("Pacific Pet Clinic", "Laura", "Kim", "info@pacificpet.example", "(415) 555-0142",
     addr("930 Irving St.", "San Francisco", "CA", "94122")),
]

DEMO_ITEMS = [
    {"Name": "Hours", "Type": "Service", "UnitPrice": 0, "IncomeAccountRef": {"value": "1"}},
    {"Name": "Installation", "Type": "Service", "UnitPrice": 50, "Description": "Installation of landscape design",
     "IncomeAccountRef": {"value": "1"}},
    {"Name": "Gardening", "Type": "Service", "UnitPrice": 25, "Description": "Weekly Gardening Service",
     "IncomeAccountRef": {"value": "1"}},
    {"Name": "Pest Control", "Type": "Service", "UnitPrice": 35, "Description": "Pest Control Services",
     "IncomeAccountRef": {"value": "1"}},
    {"Name": "Rocks", "Type": "NonInventory", "UnitPrice": 10, "Taxable": True, "Description": "Garden Rocks",
     "IncomeAccountRef": {"value": "2"}, "ExpenseAccountRef": {"value": "3"}},
]


def demo_payload() -> dict[str, list[dict[str, Any]]]:
    customers: list[dict[str, Any]] = []
    for name, given, family, email, phone, bill in DEMO_CUSTOMERS:
        customer = {"DisplayName": name, "GivenName": given, "FamilyName": family,
                    "PrimaryEmailAddr": {"Address": email}, "PrimaryPhone": {"FreeFormNumber": phone},
                    "BillAddr": bill, "ShipAddr": dict(bill)}
        if name != f"{given} {family}":
            customer["CompanyName"] = name
        customers.append(customer)
    customers.append({"DisplayName": "Weiskopf Consulting (deleted)", "GivenName": "Nicola", "FamilyName": "Weiskopf",
                      "CompanyName": "Weiskopf Consulting", "Active": False,
                      "PrimaryEmailAddr": {"Address": "Consulting@intuit.com"},
                      "PrimaryPhone": {"FreeFormNumber": "(650) 555-1423"},
                      "BillAddr": addr("45612 Main St.", "Bayshore", "CA", "94326")})
    vendors = [
        {"DisplayName": "Books by Bessie", "GivenName": "Bessie", "FamilyName": "Williams",
         "CompanyName": "Books by Bessie", "PrimaryEmailAddr": {"Address": "Books@Intuit.com"},
         "PrimaryPhone": {"FreeFormNumber": "(650) 555-7745"}, "BillAddr": addr("15 Main St.", "Palo Alto", "CA", "94303")},
        {"DisplayName": "Norton Lumber and Building Materials", "CompanyName": "Norton Lumber and Building Materials",
         "PrimaryPhone": {"FreeFormNumber": "(650) 555-9123"}},
    ]
    employees = [{"GivenName": "Emily", "FamilyName": "Platt"}, {"GivenName": "John", "FamilyName": "Johnson"}]
    return {"Item": DEMO_ITEMS, "Customer": customers, "Vendor": vendors, "Employee": employees}


def seed_demo(sim: Simulator) -> None:
    """A believable small US landscaping company, plus three invoices."""
    realm = sim.realms[sim.default_realm_id]
    realm.company_info["CompanyName"] = realm.company_info["LegalName"] = "Craig's Design and Landscaping Services"
    stored = seed_payload(realm, demo_payload())
    by_name = {c["DisplayName"]: c["Id"] for c in stored["Customer"]}
    items = {i["Name"]: i["Id"] for i in stored["Item"]}

    def line(item: str, qty: float, price: float, tax: str = "NON") -> dict[str, Any]:
        return {"Amount": round(qty * price, 2), "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": items[item]}, "Qty": qty, "UnitPrice": price,
                                        "TaxCodeRef": {"value": tax}}}

    invoices = [
        {"CustomerRef": {"value": by_name["Amy's Bird Sanctuary"]}, "Line": [line("Gardening", 4, 25), line("Rocks", 10, 10, "TAX")]},
        {"CustomerRef": {"value": by_name["Cool Cars"]}, "Line": [line("Installation", 8, 50)]},
        {"CustomerRef": {"value": by_name["Freeman Sporting Goods"]}, "Line": [line("Pest Control", 2, 35), line("Hours", 3, 45)]},
    ]
    seed_payload(realm, {"Invoice": invoices})
