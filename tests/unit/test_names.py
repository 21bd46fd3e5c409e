from __future__ import annotations

import pytest

from stqbo_sync.names import match_key, qbo_safe_name, unique_display_name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Amy's Bird Sanctuary", "amy\u2019s  bird sanctuary"),
        ("Cool Cars", "Cool Cars (deleted)"),
        ("Smith & Sons", "Smith and Sons"),
        ("Acme: North Branch", "Acme North Branch"),
        ("  Freeman   Sporting Goods ", "freeman sporting goods"),
        ("Crème de l'Été", "CRÈME DE L'ÉTÉ"),
    ],
    ids=["curly-quote", "deleted-suffix", "ampersand", "colon", "whitespace", "accents-case"],
)
def test_match_key_equal(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


@pytest.mark.parametrize(("a", "b"), [("Cool Cars", "Cool Car"), ("Crème", "Creme"), ("A1", "A2")])
def test_match_key_different(a: str, b: str) -> None:
    assert match_key(a) != match_key(b)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme: North Branch", "Acme - North Branch"),
        ("Tab\there", "Tab here"),
        ("Line\nbreak", "Line break"),
        ("  plain  ", "plain"),
    ],
)
def test_qbo_safe_name(name: str, expected: str) -> None:
    assert qbo_safe_name(name) == expected


def test_unique_display_name_is_deterministic_and_within_500() -> None:
    assert unique_display_name("Smith Plumbing", 1235, taken=False) == "Smith Plumbing"
    assert unique_display_name("Smith Plumbing", 1235, taken=True) == "Smith Plumbing (ST 1235)"
    long = unique_display_name("x" * 600, 7, taken=True)
    assert len(long) == 500 and long.endswith(" (ST 7)")
    assert len(unique_display_name("y" * 600, 7, taken=False)) == 500
