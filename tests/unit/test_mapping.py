from __future__ import annotations

from stqbo_sync import mapping
from stqbo_sync.model import CANON_FIELDS

ST = {
    "id": 12, "name": "Cool Cars", "address": "1 Main St, Springfield", "addressStreet": "1 Main St",
    "addressComplement": "", "addressCity": "Springfield", "addressProvince": "IL", "addressZIP": "62701",
    "addressCountry": "USA", "contactFirstName": "Grace", "contactLastName": "Pariente",
    "contactEmail": "grace@coolcars.example", "contactPhone": "(415) 555-9933", "contactMobile": "",
    "contactFax": None, "active": True, "dateModified": "2026-11-25 10:15",
}
QBO = {
    "Id": "3", "SyncToken": "0", "DisplayName": "Cool Cars", "CompanyName": "Cool Cars", "GivenName": "Grace",
    "FamilyName": "Pariente", "PrimaryEmailAddr": {"Address": "grace@coolcars.example"},
    "PrimaryPhone": {"FreeFormNumber": "(415) 555-9933"},
    "BillAddr": {"Id": "4", "Line1": "1 Main St", "City": "Springfield", "CountrySubDivisionCode": "IL",
                 "PostalCode": "62701", "Country": "USA"},
    "Active": True,
}


def test_both_projections_agree_on_the_same_customer() -> None:
    assert mapping.st_to_canon(ST) == mapping.qbo_to_canon(QBO)


def test_projection_has_every_canonical_field_and_blanks_are_none() -> None:
    canon = mapping.st_to_canon(ST)
    assert tuple(canon) == CANON_FIELDS
    assert canon["mobile"] is None and canon["fax"] is None and canon["address_line2"] is None


def test_inactive_qbo_name_loses_the_deleted_suffix() -> None:
    canon = mapping.qbo_to_canon({**QBO, "DisplayName": "Cool Cars (deleted)", "Active": False})
    assert canon["name"] == "Cool Cars" and canon["active"] is False


def test_qbo_body_for_create_carries_company_name_and_nested_fields() -> None:
    body = mapping.canon_to_qbo(mapping.st_to_canon(ST), display_name="Cool Cars (ST 12)")
    assert body["DisplayName"] == "Cool Cars (ST 12)"
    assert body["CompanyName"] == "Cool Cars"
    assert body["PrimaryEmailAddr"] == {"Address": "grace@coolcars.example"}
    assert body["BillAddr"]["CountrySubDivisionCode"] == "IL"
    assert body["Active"] is True


def test_qbo_partial_body_clears_with_empty_string_and_keeps_whole_address() -> None:
    current = mapping.st_to_canon(ST)
    body = mapping.fill_address(mapping.canon_to_qbo({"email": None, "city": "Chicago"}), {**current, "city": "Chicago"})
    assert body["PrimaryEmailAddr"] == {"Address": ""}
    assert body["BillAddr"] == {"Line1": "1 Main St", "Line2": "", "City": "Chicago", "CountrySubDivisionCode": "IL",
                                "PostalCode": "62701", "Country": "USA"}


def test_qbo_lengths_are_enforced_on_write() -> None:
    body = mapping.canon_to_qbo({"first_name": "g" * 150, "phone": "1" * 40})
    assert len(body["GivenName"]) == 100 and len(body["PrimaryPhone"]["FreeFormNumber"]) == 21


def test_st_body_rebuilds_one_line_address_when_a_part_changes() -> None:
    full = {**mapping.st_to_canon(ST), "city": "Chicago"}
    body = mapping.canon_to_st({"city": "Chicago"}, full=full)
    assert body == {"addressCity": "Chicago", "address": "1 Main St, Chicago, IL, 62701, USA"}


def test_st_address_placeholder_when_nothing_known() -> None:
    empty = mapping.st_to_canon({"name": "X"})
    assert mapping.st_one_line_address(empty) == mapping.ST_ADDRESS_PLACEHOLDER
