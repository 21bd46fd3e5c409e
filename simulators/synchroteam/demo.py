"""`--seed demo`: a small, realistic account that exercises the connector's awkward cases.

Some names are shared with the QuickBooks simulator's demo company (so matching by name links them), two
customers share a name, one name has a colon (not allowed in a QuickBooks DisplayName), one has an apostrophe
and accents. Dates are relative to the simulator clock so `changedSince` windows behave on any day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulators.synchroteam import service
from simulators.synchroteam.state import SimState
from simulators.synchroteam.store import Account

CA_TAX = {"name": "CA Sales Tax", "rate": 8.0}

# name, first, last, email, phone, mobile, street, city, province, zip (country USA). The shared ones carry the
# same contact as the QuickBooks simulator's demo company (simulators/quickbooks/seeding.py), typos included;
# only Jeff's Jalopies differs: it has a mobile number here and none there.
_SHARED_WITH_QBO = [
    ("Amy's Bird Sanctuary", "Amy", "Lauterbach", "Birds@Intuit.com", "(650) 555-3311", None,
     "4581 Finch St.", "Bayshore", "CA", "94326"),
    ("Cool Cars", "Grace", "Pariente", "Cool_Cars@intuit.com", "(415) 555-9933", None,
     "65 Ocean Dr.", "Half Moon Bay", "CA", "94213"),
    ("Freeman Sporting Goods", "Kirby", "Freeman", "Sporting_goods@intuit.com", "(650) 555-0987", None,
     "370 Easy St.", "Middlefield", "CA", "94482"),
    ("Geeta Kalapatapu", "Geeta", "Kalapatapu", "Geeta@Kalapatapu.com", "(650) 555-0022", None,
     "1987 Main St.", "Middlefield", "CA", "94303"),
    ("Jeff's Jalopies", "Jeff", "Chin", "Jalopies@intuit.com", "(650) 555-8989", "(650) 555-8990",
     "12 Willow Rd.", "Menlo Park", "CA", "94305"),
    ("Rondonuwu Fruit and Vegi", "Shara", "Barnett", "Tony@Rondonuwu.com", "(650) 555-2645", None,
     "847 California Ave.", "San Jose", "CA", "95021"),
    ("Sushi by Katsuyuki", "Kaxuyuki", "Yanagawa", "Sushi@intuit.com", "(505) 570-0147", None,
     "898 Elm St.", "Maplewood", "NJ", "07040"),
    ("Books by Bessie", "Bessie", "Williams", "Books@Intuit.com", "(650) 555-7745", None,
     "15 Main St.", "Palo Alto", "CA", "94303"),
]
_AWKWARD = [
    ("Smith Plumbing", "John", "Smith", "john@smithplumbing.example", "(408) 555-0101", "(408) 555-0177",
     "12 Oak Ave.", "San Jose", "CA", "95112"),
    ("Smith Plumbing", "Maria", "Smith", "maria@smith-plumbing.example", "(916) 555-0199", None,
     "400 K St.", "Sacramento", "CA", "95814"),
    ("Acme: North Branch", "Wile", "Coyote", "wile.coyote@acme.example", "(520) 555-0110", "(520) 555-0111",
     "1 Mesa Rd.", "Tucson", "AZ", "85701"),
    ("Crème de l'Été Pâtisserie", "Éloïse", "Lefèvre", "eloise@creme-ete.example", "(415) 555-0142", None,
     "210 Rue Côté", "San Francisco", "CA", "94109"),
]
_SYNCHROTEAM_ONLY = [
    ("Bayview Dental Clinic", "Priya", "Raman", "frontdesk@bayviewdental.example", "(415) 555-0120"),
    ("Northwind HVAC Services", "Tom", "Becker", "tom@northwind-hvac.example", "(510) 555-0133"),
    ("Harbor Lights Marina", "Dana", "Okafor", "office@harborlights.example", "(831) 555-0144"),
    ("Pine Ridge Apartments", "Luis", "Ortega", "manager@pineridge.example", "(707) 555-0155"),
    ("Golden Gate Bakery", "Mei", "Chen", "orders@ggbakery.example", "(415) 555-0166"),
    ("Redwood Veterinary Hospital", "Sam", "Whitfield", "sam@redwoodvet.example", "(707) 555-0177"),
    ("Summit Fitness Center", "Ava", "Kowalski", "ava@summitfit.example", "(925) 555-0188"),
    ("Lakeside Elementary School", "Robert", "Nguyen", "facilities@lakeside.example", "(650) 555-0199"),
    ("Mission Street Laundromat", "Hector", "Alvarez", None, "(415) 555-0210"),
    ("Orchard Supply Co-op", "Grace", "Liu", "grace@orchardcoop.example", None),
    ("Blue Heron Bed & Breakfast", "Nora", "Fitzgerald", "stay@blueheron.example", "(831) 555-0232"),
    ("Cedar Grove Winery", "Marco", "Rossi", "marco@cedargrove.example", "(707) 555-0243"),
    ("Sunset Auto Body", "Kenji", "Watanabe", "kenji@sunsetauto.example", "(415) 555-0254"),
    ("Valley Medical Group", "Fatima", "Haddad", "admin@valleymed.example", "(408) 555-0265"),
    ("Hilltop Community Church", "James", "O'Brien", "office@hilltopchurch.example", "(510) 555-0276"),
    ("Riverside Brewing Company", "Olga", "Petrova", "olga@riversidebrew.example", "(916) 555-0287"),
    ("Twin Peaks Hardware", "Ben", "Adler", "ben@twinpeakshw.example", "(415) 555-0298"),
    ("Coastal Property Management", "Ines", "Moreau", "ines@coastalpm.example", "(650) 555-0309"),
    ("Evergreen Senior Living", "Walter", "Brooks", "walter@evergreen.example", "(408) 555-0310"),
    ("Marina Green Yacht Club", "Chloe", "Dubois", "chloe@mgyc.example", "(415) 555-0321"),
    ("Silicon Valley Data Center", "Raj", "Iyer", "noc@svdc.example", "(408) 555-0332"),
    ("Half Moon Bay Surf Shop", "Kai", "Makoa", "kai@hmbsurf.example", "(650) 555-0343"),
    ("Presidio Office Suites", "Laura", "Bennett", "laura@presidiosuites.example", "(415) 555-0354"),
    ("Napa Valley Olive Oil", "Enzo", "Bianchi", "enzo@napaolive.example", "(707) 555-0365"),
    ("Fremont Storage Units", "Amir", "Sadeghi", "amir@fremontstorage.example", "(510) 555-0376"),
    ("Old Town Barber Shop", "Vince", "Russo", None, None),
    ("Alameda Ferry Café", "Zoë", "Park", "zoe@ferrycafe.example", "(510) 555-0387"),
    ("Closed Account Diner", "Pat", "Morgan", "pat@closeddiner.example", "(408) 555-0398"),
]
_INACTIVE = {"Closed Account Diner"}

PARTS = [
    {"reference": "SVC-HOUR", "name": "Labour hour", "description": "Technician labour, per hour",
     "type": "service", "price": 85.0, "tax": None},
    {"reference": "SVC-CALLOUT", "name": "Call-out fee", "description": "Travel and call-out",
     "type": "service", "price": 65.0, "tax": None},
    {"reference": "SVC-MAINT", "name": "Annual maintenance visit", "description": "Yearly preventive visit",
     "type": "service", "price": 240.0, "tax": None},
    {"reference": "PART-FILTER", "name": "Air filter 16x25x1", "description": "Pleated air filter, MERV 8",
     "type": "part", "price": 12.5, "tax": CA_TAX},
    {"reference": "PART-VALVE", "name": "Ball valve 3/4\"", "description": "Brass ball valve, 3/4 inch",
     "type": "part", "price": 48.0, "tax": CA_TAX},
    {"reference": "PART-THERMO", "name": "Smart thermostat", "description": "Wi-Fi programmable thermostat",
     "type": "part", "price": 149.99, "tax": CA_TAX},
    {"reference": "PART-PIPE-1M", "name": "Copper pipe 1 m", "description": "Type L copper pipe, 1 metre",
     "type": "part", "price": 9.75, "tax": CA_TAX},
]
_PRICES = {p["reference"]: (p["price"], p["tax"], p["name"]) for p in PARTS}


def _stamp(value: datetime) -> str:
    """An exact instant (`Z`): the demo's times are computed on the UTC clock, and a naive seed time would be read
    as the account's local time (an hour off, or ambiguous, around a DST change)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _customer(row: tuple[Any, ...], created: datetime, modified: datetime) -> dict[str, Any]:
    name, first, last, email, phone = row[:5]
    mobile = row[5] if len(row) > 5 else None
    street, city, province, zip_code = row[6:10] if len(row) > 6 else (f"{100 + len(name)} Market St.",
                                                                          "San Francisco", "CA", "94103")
    return {
        "name": name,
        "address": f"{street}, {city}, {province} {zip_code}, USA",
        "addressStreet": street, "addressCity": city, "addressProvince": province, "addressZIP": zip_code,
        "addressCountry": "USA",
        "contactFirstName": first, "contactLastName": last, "contactEmail": email,
        "contactPhone": phone, "contactMobile": mobile,
        "active": name not in _INACTIVE,
        "dateCreated": _stamp(created), "dateModified": _stamp(modified),
    }


def _line(reference: str, quantity: float, discount: float = 0) -> dict[str, Any]:
    price, tax, name = _PRICES[reference]
    return {"partProductCode": reference, "description": name, "quantity": quantity, "unitPrice": price,
            "discount": discount, "tax": tax}


def _note(text: str) -> dict[str, Any]:
    return {"description": text}


# customer name (first match), status, age in days, lines, description
_INVOICES: list[tuple[str, str, int, list[dict[str, Any]], str]] = [
    ("Amy's Bird Sanctuary", "paid", 80, [_line("SVC-HOUR", 2), _line("PART-FILTER", 4)], "Aviary HVAC service"),
    ("Cool Cars", "paid", 75, [_line("SVC-CALLOUT", 1), _line("PART-VALVE", 2)], "Workshop valve replacement"),
    ("Bayview Dental Clinic", "paid", 70, [_line("SVC-MAINT", 1)], "Annual maintenance"),
    ("Jeff's Jalopies", "paid", 64, [_line("SVC-HOUR", 3), _line("PART-PIPE-1M", 6)], "Garage pipework"),
    ("Smith Plumbing", "paid", 60, [_line("SVC-HOUR", 1.5)], "Consultation"),
    ("Sushi by Katsuyuki", "late", 58, [_line("SVC-HOUR", 4), _line("PART-THERMO", 1)], "Kitchen thermostat"),
    ("Northwind HVAC Services", "late", 52, [_line("SVC-HOUR", 6, discount=10), _line("PART-FILTER", 12)],
     "Subcontracted rooftop work (10% partner discount on labour)"),
    ("Acme: North Branch", "late", 47, [_line("SVC-CALLOUT", 1), _line("SVC-HOUR", 2)], "Emergency call-out"),
    ("Freeman Sporting Goods", "sent", 30, [_line("SVC-HOUR", 2), _line("PART-VALVE", 1)], "Store sprinklers"),
    ("Crème de l'Été Pâtisserie", "sent", 25, [_line("SVC-MAINT", 1), _line("PART-FILTER", 2)],
     "Entretien annuel — cuisine"),
    ("Golden Gate Bakery", "sent", 21,
     [_line("SVC-HOUR", 1),
      _note("Oven hood inspected; no defect found. Next visit scheduled with the store manager.")],
     "Oven hood inspection"),
    ("Geeta Kalapatapu", "sent", 18, [_line("SVC-CALLOUT", 1), _line("PART-THERMO", 1)], "Thermostat install"),
    ("Harbor Lights Marina", "sent", 14, [_line("SVC-HOUR", 5), _line("PART-PIPE-1M", 10)], "Dock water line"),
    ("Rondonuwu Fruit and Vegi", "new", 9, [_line("SVC-HOUR", 1), _line("PART-FILTER", 2)], "Cold room filters"),
    ("Pine Ridge Apartments", "new", 7, [_line("SVC-MAINT", 2)], "Maintenance, buildings A and B"),
    ("Books by Bessie", "new", 5, [_line("SVC-CALLOUT", 1)], "Call-out, no repair needed"),
    ("Redwood Veterinary Hospital", "new", 3, [_line("SVC-HOUR", 2.5), _line("PART-VALVE", 1)], "Valve repair"),
    ("Summit Fitness Center", "draft", 2, [_line("SVC-HOUR", 3)], "Locker room plumbing (draft)"),
    ("Cool Cars", "draft", 1, [_line("PART-FILTER", 6)], "Filter restock (draft)"),
    ("Valley Medical Group", "draft", 0, [_line("SVC-MAINT", 1), _line("PART-THERMO", 2)], "Quote turned invoice"),
]


def load_demo(state: SimState, account: Account) -> None:
    now = state.clock.now().replace(second=0, microsecond=0)
    rows = [*_SHARED_WITH_QBO, *_AWKWARD, *_SYNCHROTEAM_ONLY]
    customers = []
    for i, row in enumerate(rows):
        created = now - timedelta(days=200 - 3 * i, hours=i % 7)
        customers.append(_customer(row, created, created + timedelta(days=i % 5, minutes=17 * i)))
    seeded = service.seed_customers(account, customers, now, lambda rid: state.public_link(account, rid))
    by_name: dict[str, int] = {}
    for record in seeded:
        by_name.setdefault(record["name"], record["id"])
    second_smith = [r["id"] for r in seeded if r["name"] == "Smith Plumbing"][1]
    for part in PARTS:
        service.send_part(account, {**part, "dateCreated": _stamp(now - timedelta(days=365))}, now, seed=True)
    for k, (name, status, age, lines, description) in enumerate(_INVOICES):
        created = now - timedelta(days=age, hours=3, minutes=7 * k)
        customer_id = second_smith if name == "Smith Plumbing" else by_name[name]
        body: dict[str, Any] = {
            "status": status, "customer": {"id": customer_id}, "description": description, "lines": lines,
            "dateCreated": _stamp(created), "dateModified": _stamp(created + timedelta(hours=2)),
            "dateDue": _stamp(created + timedelta(days=30 if status != "late" else 14)),
        }
        if status == "paid":
            body["datePaid"] = _stamp(created + timedelta(days=12))
            body["dateModified"] = body["datePaid"]
        service.seed_invoice(account, body, now)
