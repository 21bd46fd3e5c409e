"""Helpers for end-to-end scenarios: seed records in the APIs' own JSON, read both sides back, count writes."""

from __future__ import annotations

from typing import Any

from devenv.sims import SimProcess


def st_customer(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "address": fields.pop("address", "1 Main St, Springfield, IL 62701, USA"),
            "addressStreet": "1 Main St", "addressCity": "Springfield", "addressProvince": "IL",
            "addressZIP": "62701", "addressCountry": "USA", "active": True, **fields}


def qbo_customer(name: str, **fields: Any) -> dict[str, Any]:
    return {"DisplayName": name, "CompanyName": name,
            "BillAddr": {"Line1": "9 Elm St", "City": "Portland", "CountrySubDivisionCode": "OR",
                         "PostalCode": "97201", "Country": "USA"}, **fields}


def seed_st(st: SimProcess, *customers: dict[str, Any], **other: Any) -> list[dict[str, Any]]:
    resp = st.admin("POST", "/_sim/seed", json={"customers": list(customers), **other})
    resp.raise_for_status()
    return list(resp.json().get("customers", []))


def seed_qbo(qbo: SimProcess, **collections: Any) -> dict[str, Any]:
    resp = qbo.admin("POST", "/_sim/seed", json=collections)
    resp.raise_for_status()
    return dict(resp.json())


def qbo_customers(qbo: SimProcess) -> list[dict[str, Any]]:
    return list(qbo.admin("GET", "/_sim/state").json().get("Customer", []))


def st_customers(st: SimProcess) -> list[dict[str, Any]]:
    return list(st.admin("GET", "/_sim/state").json().get("customers", []))


def by_name(records: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        assert r[key] not in out, f"duplicate {key} {r[key]!r}"
        out[r[key]] = r
    return out


def clear_logs(*sims: SimProcess) -> None:
    for sim in sims:
        sim.admin("DELETE", "/_sim/requests").raise_for_status()


def assert_quiet_rerun(run_dag: Any, qbo: SimProcess, st: SimProcess, **conf: Any) -> None:
    """Convergence and quiet: one more run right after writes nothing to either side."""
    clear_logs(qbo, st)
    run_dag(**conf)
    assert qbo.writes() == [], f"QuickBooks writes on a quiet re-run: {qbo.writes()}"
    assert st.writes() == [], f"Synchroteam writes on a quiet re-run: {st.writes()}"


def edit(sim: SimProcess, collection: str, rid: Any, **changes: Any) -> dict[str, Any]:
    """An edit as a person makes it in the product's UI."""
    resp = sim.admin("PATCH", f"/_sim/{collection}/{rid}", json=changes)
    resp.raise_for_status()
    return dict(resp.json())


def runtime(state_db: str, run_id: str, mode: str = "sync") -> Any:
    """A run's Runtime with the hooks' clients, for tests that drive the tasks one by one (no Airflow)."""
    from stqbo_hooks.quickbooks import QuickBooksHook
    from stqbo_hooks.synchroteam import SynchroteamHook
    from stqbo_sync import service

    return service.Runtime(dsn=state_db, run_id=run_id, qbo=QuickBooksHook().get_conn(), st=SynchroteamHook().get_conn(),
                           mode=mode)
