"""Run every probe once, in an order that keeps the realm's limits clean, and collect the findings.

A probe that cannot check its fact says why (``NotChecked``) and one that fails is reported with the error: either
way its verdict is "unknown" and the run goes on. Everything the writing probes created is cleaned up before the
throttling burst (which is meant to be refused, so nothing should need the realm right after it) and whatever a
failure left behind is listed in the report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stqbo_api.errors import ApiError
from stqbo_api.redact import scrub
from stqbo_conformance import probes_quickbooks as qbo
from stqbo_conformance import probes_synchroteam as st
from stqbo_conformance.context import Context, NotChecked
from stqbo_conformance.facts import BY_ID, FACTS, Finding, Observation, Verdict

log = logging.getLogger(__name__)

Probe = Callable[[Context], Observation]

PROBES: dict[str, Probe] = {
    "S1-dateModified": st.date_modified,
    "S1-changedSince": st.changed_since,
    "S2-details-name": st.details_name,
    "S4-invoice-statuses": st.invoice_statuses,
    "Q1-query-case": qbo.query_case,
    "Q1-6240-detail": qbo.duplicate_detail,
    "Q1-name-rule": qbo.name_rule,
    "Q2-default-order": qbo.default_order,
    "Q3-throttle-429": qbo.throttle,
    "QL-customerref-in": qbo.customerref_in,
    "QL-maxresults": qbo.maxresults,
    "Q8-void-note": qbo.void_note,
}
LAST = ("Q3-throttle-429",)   # after the cleanups: it leaves the realm throttled for a moment


@dataclass
class Report:
    """The findings (in the catalogue's order) and what the run was."""

    findings: list[Finding]
    started: datetime
    finished: datetime
    write: bool
    targets: dict[str, Any]
    left_behind: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {str(v): 0 for v in Verdict}
        for finding in self.findings:
            counts[str(finding.observation.verdict)] += 1
        return counts


def observe(ctx: Context, fact_id: str) -> Observation:
    """One probe, never raising: what it could not do becomes an "unknown" that says why."""
    try:
        return PROBES[fact_id](ctx)
    except NotChecked as why:
        return Observation(str(why), Verdict.UNKNOWN)
    except ApiError as err:
        log.warning("conformance probe %s failed: %s", fact_id, err)
        return Observation(f"the probe failed: {scrub(str(err), limit=400)}", Verdict.UNKNOWN,
                           [{"error": type(err).__name__, "status": err.status, "code": err.code,
                             "detail": err.detail}])
    except Exception as err:  # a probe's bug or a network problem must not lose the other findings
        log.exception("conformance probe %s failed", fact_id)
        return Observation(f"the probe failed: {type(err).__name__}: {scrub(str(err), limit=400)}", Verdict.UNKNOWN)


def run(ctx: Context, targets: dict[str, Any] | None = None) -> Report:
    started = datetime.now(UTC)
    found: dict[str, Observation] = {}
    left: list[str] = []
    try:
        for fact in FACTS:
            if fact.id not in LAST:
                log.info("conformance: %s", fact.id)
                found[fact.id] = observe(ctx, fact.id)
        left += ctx.clean_up()
        for fact_id in LAST:
            log.info("conformance: %s", fact_id)
            found[fact_id] = observe(ctx, fact_id)
    finally:
        left += ctx.clean_up()
    findings = [Finding(BY_ID[f.id], found[f.id]) for f in FACTS]
    return Report(findings, started, datetime.now(UTC), ctx.write, targets or {}, left)
