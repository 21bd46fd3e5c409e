"""Synchroteam simulator: list indexes stay consistent with the data through a long random sequence of edits.

A model kept by the test says which customers each filter must return; the simulator's indexes (sorted
active/inactive lists, the `changedSince` bisect list, the name index, the query cache) must agree after
creates, no-op sends, updates, activations, renames, API and UI deletions.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from simulators.synchroteam.testing import StClient, since

NAMES = ["Smith Plumbing", "Cool Cars", "Acme: North Branch", "Crème de l'Été", "Zed"]


@pytest.fixture()
def st(st_real: Any) -> Any:
    """The simulator's own contract: its real defaults (America/New_York, prefix look-ups), not the UTC mode the
    connector's tests still run in."""
    return st_real


@pytest.fixture()
def client(st: Any) -> StClient:
    return StClient(st.url)


def cut_now(st: Any, client: StClient) -> str:
    st.admin("POST", "/_sim/clock", json={"advance_seconds": 2}).raise_for_status()
    return since(client.local_now())


def listed(client: StClient, **filters: Any) -> list[int]:
    return [c["id"] for c in client.list_all("customer", page_size=10, **filters)]


def test_random_edits_keep_every_listing_right(st: Any, client: StClient) -> None:
    saved = st.admin("GET", "/_sim/limits").json()
    st.admin("POST", "/_sim/limits", json={"requests_per_minute": 0})
    rng = random.Random(20261125)
    model: dict[int, dict[str, Any]] = {}
    cuts: list[str] = []
    try:
        for step in range(100):
            cuts.append(cut_now(st, client))
            _apply_random_op(st, client, rng, model, step)
            if step % 10 == 9:
                _check(client, rng, model, cuts)
    finally:
        st.admin("POST", "/_sim/limits", json=saved)


def _apply_random_op(st: Any, client: StClient, rng: random.Random, model: dict[int, dict[str, Any]],
                     step: int) -> None:
    op = rng.choice(["create", "create", "phone", "same", "toggle", "rename", "delete", "ui_delete", "ui_edit"])
    if op == "create" or not model:
        body = {"name": rng.choice(NAMES), "address": "1 Road", "active": rng.random() < 0.7, "contactPhone": "1"}
        created = client.ok("POST", "customer/send", json=body)
        model[created["id"]] = {"name": body["name"], "active": body["active"], "phone": "1", "mod": step}
        return
    rid = rng.choice(sorted(model))
    rec = model[rid]
    if op in ("phone", "same"):
        phone = rec["phone"] if op == "same" else str(step)
        client.ok("POST", "customer/send", json={"id": rid, "contactPhone": phone})
        if phone != rec["phone"]:
            rec.update(phone=phone, mod=step)
    elif op == "toggle":
        client.ok("POST", "customer/send", json={"id": rid, "active": not rec["active"]})
        rec.update(active=not rec["active"], mod=step)
    elif op == "rename":
        name = rng.choice(NAMES)
        client.ok("POST", "customer/send", json={"id": rid, "name": name})
        if name != rec["name"]:
            rec.update(name=name, mod=step)
    elif op == "delete":
        assert client.delete("customer/delete", id=rid).status_code == 204
        del model[rid]
    elif op == "ui_delete":
        assert st.admin("DELETE", f"/_sim/customers/{rid}").status_code == 200
        del model[rid]
    else:
        st.admin("PATCH", f"/_sim/customers/{rid}", json={}).raise_for_status()
        rec["mod"] = step


def _check(client: StClient, rng: random.Random, model: dict[int, dict[str, Any]], cuts: list[str]) -> None:
    for active in (True, False):
        flag = str(active).lower()
        assert listed(client, active=flag) == sorted(r for r, m in model.items() if m["active"] is active)
        k = rng.randrange(len(cuts))
        expected = sorted(r for r, m in model.items() if m["active"] is active and m["mod"] >= k)
        assert listed(client, active=flag, changedSince=cuts[k]) == expected, (active, k)
        name = rng.choice(NAMES)
        expected = sorted(r for r, m in model.items() if m["active"] is active and m["name"] == name)
        assert listed(client, active=flag, name=name.upper()) == expected
