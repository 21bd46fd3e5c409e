"""The QuickBooks connection's invoice options: parsed once, and a bad value is one error naming the option."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from stqbo_api.errors import ConfigurationError
from stqbo_api.options import QuickBooksOptions, as_bool, extra_value


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({}, QuickBooksOptions(), id="empty-extra-defaults"),
        pytest.param({"realm_id": "1", "refresh_token": "RT1-x"}, QuickBooksOptions(), id="other-keys-ignored"),
        pytest.param({"use_synchroteam_invoice_numbers": True},
                     QuickBooksOptions(use_synchroteam_invoice_numbers=True), id="bool-true"),
        pytest.param({"use_synchroteam_invoice_numbers": False}, QuickBooksOptions(), id="bool-false"),
        pytest.param({"use_synchroteam_invoice_numbers": "Yes"},
                     QuickBooksOptions(use_synchroteam_invoice_numbers=True), id="bool-word"),
        pytest.param({"use_synchroteam_invoice_numbers": "off"}, QuickBooksOptions(), id="bool-word-off"),
        pytest.param({"use_synchroteam_invoice_numbers": 1},
                     QuickBooksOptions(use_synchroteam_invoice_numbers=True), id="bool-one"),
        pytest.param({"use_synchroteam_invoice_numbers": ""}, QuickBooksOptions(), id="bool-empty"),
        pytest.param({"extra__quickbooks__use_synchroteam_invoice_numbers": "true"},
                     QuickBooksOptions(use_synchroteam_invoice_numbers=True), id="legacy-prefixed-key"),
        pytest.param({"income_account_id": "2"}, QuickBooksOptions(income_account_id="2"), id="account-text"),
        pytest.param({"income_account_id": 79}, QuickBooksOptions(income_account_id="79"), id="account-number"),
        pytest.param({"income_account_id": ""}, QuickBooksOptions(), id="account-empty"),
        pytest.param({"item_type": "Service"}, QuickBooksOptions(item_type="Service"), id="item-service"),
        pytest.param({"item_type": "NonInventory"}, QuickBooksOptions(item_type="NonInventory"), id="item-noninv"),
        pytest.param({"item_type": None}, QuickBooksOptions(), id="item-null"),
        pytest.param({"tax_codes": {"VAT": "3", "": "5"}},
                     QuickBooksOptions(tax_codes={"VAT": "3", "": "5"}), id="tax-object"),
        pytest.param({"tax_codes": '{"VAT": 3}'}, QuickBooksOptions(tax_codes={"VAT": "3"}), id="tax-json-text"),
        pytest.param({"tax_codes": "{}"}, QuickBooksOptions(), id="tax-empty-object"),
        pytest.param({"tax_codes": ""}, QuickBooksOptions(), id="tax-empty-text"),
    ],
)
def test_good_extras_parse(extra: dict[str, Any], expected: QuickBooksOptions) -> None:
    assert QuickBooksOptions.from_extra(extra) == expected


@pytest.mark.parametrize(
    ("extra", "option", "says"),
    [
        pytest.param({"use_synchroteam_invoice_numbers": "maybe"}, "use_synchroteam_invoice_numbers",
                     "true or false", id="bool-word"),
        pytest.param({"use_synchroteam_invoice_numbers": 2}, "use_synchroteam_invoice_numbers",
                     "true or false", id="bool-number"),
        pytest.param({"use_synchroteam_invoice_numbers": ["x"]}, "use_synchroteam_invoice_numbers",
                     "true or false", id="bool-list"),
        pytest.param({"income_account_id": "Sales"}, "income_account_id", "a number", id="account-name"),
        pytest.param({"income_account_id": True}, "income_account_id", "a number", id="account-bool"),
        pytest.param({"item_type": "service"}, "item_type", "Service or NonInventory", id="item-case"),
        pytest.param({"item_type": "Inventory"}, "item_type", "Service or NonInventory", id="item-inventory"),
        pytest.param({"tax_codes": "{VAT: 3"}, "tax_codes", "not valid JSON", id="tax-bad-json"),
        pytest.param({"tax_codes": '["3"]'}, "tax_codes", "JSON object", id="tax-json-list"),
        pytest.param({"tax_codes": 3}, "tax_codes", "JSON object", id="tax-number"),
        pytest.param({"tax_codes": {"VAT": {"id": "3"}}}, "tax_codes", "TaxCode Id", id="tax-nested"),
        pytest.param({"tax_codes": {"VAT": ""}}, "tax_codes", "TaxCode Id", id="tax-empty-id"),
        pytest.param({"tax_codes": {"VAT": None}}, "tax_codes", "TaxCode Id", id="tax-null-id"),
    ],
)
def test_bad_extras_name_the_option_and_the_connection(extra: dict[str, Any], option: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        QuickBooksOptions.from_extra(extra, conn_id="quickbooks_default")
    err = caught.value
    assert (err.option, err.connection) == (option, "quickbooks_default")
    assert option in str(err) and "QuickBooks connection 'quickbooks_default'" in str(err) and says in str(err)


def test_the_message_never_echoes_the_value() -> None:
    with pytest.raises(ConfigurationError) as caught:
        QuickBooksOptions.from_extra({"tax_codes": "RT1-not-json-secret-looking-text"})
    assert "RT1-not-json" not in str(caught.value)


def test_configuration_error_survives_pickling() -> None:
    err = ConfigurationError("The option item_type ...", option="item_type", connection="quickbooks_default")
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.option, back.connection) == (str(err), "item_type", "quickbooks_default")


def test_options_are_frozen_and_hashable() -> None:
    options = QuickBooksOptions(tax_codes={"VAT": "3"})
    with pytest.raises(AttributeError):
        options.item_type = "Service"  # type: ignore[misc]
    assert hash(options) == hash(QuickBooksOptions())


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({"realm_id": "1"}, "1", id="plain"),
        pytest.param({"extra__quickbooks__realm_id": "2"}, "2", id="legacy"),
        pytest.param({"realm_id": "", "extra__quickbooks__realm_id": "3"}, "3", id="empty-plain-falls-back"),
        pytest.param({"realm_id": ""}, None, id="empty-is-none"),
    ],
)
def test_extra_value_reads_plain_then_legacy_keys(extra: dict[str, Any], expected: str | None) -> None:
    assert extra_value(extra, "realm_id", "quickbooks") == expected


@pytest.mark.parametrize(("value", "expected"), [(True, True), (None, False), ("TRUE", True), ("0", False),
                                                 ("nonsense", False)])
def test_as_bool_is_lenient(value: Any, expected: bool) -> None:
    assert as_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("new", "sent", "paid", "late", "partially paid", "part paid")),
        ("new, sent, awaiting approval", ("new", "sent", "awaiting approval")),
        ('["new", "Partially Paid"]', ("new", "Partially Paid")),
        (["sent"], ("sent",)),
    ],
    ids=["default", "comma-text", "json-text", "json-list"],
)
def test_invoice_statuses(value: object, expected: tuple[str, ...]) -> None:
    extra = {} if value is None else {"invoice_statuses": value}
    assert QuickBooksOptions.from_extra(extra).invoice_statuses == expected


@pytest.mark.parametrize("value", [" , ", "[1, 2]", "[not json", 7], ids=["empty", "numbers", "bad-json", "number"])
def test_bad_invoice_statuses_name_the_option(value: object) -> None:
    with pytest.raises(ConfigurationError, match="invoice_statuses"):
        QuickBooksOptions.from_extra({"invoice_statuses": value})
