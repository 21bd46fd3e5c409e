"""The facts under check: each one's question, what the simulators assume, and where the assumption comes from.

The texts live here once so that the report, the JSON and the probes say the same thing; a probe only adds what
the account showed, a verdict and evidence. The assumptions are the simulators' defaults as `docs/simulators.md`
documents them (the reading of an UNCONFIRMED fact hardest on a client).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SYNCHROTEAM = "synchroteam"
QUICKBOOKS = "quickbooks"


class Verdict(StrEnum):
    """What the account showed against the simulator's assumption."""

    AGREES = "agrees"
    DIFFERS = "differs"
    UNKNOWN = "unknown"      # not checked (read-only run, no data to look at) or the answer could not tell


@dataclass(frozen=True)
class Fact:
    id: str
    api: str
    question: str
    simulator: str
    source: str
    writes: bool = False     # the probe creates records (only with --write on a sandbox company)


@dataclass(frozen=True)
class Observation:
    """What a probe saw: ``observed`` in a sentence, the verdict, and the exchanges that show it."""

    observed: str
    verdict: Verdict
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """One row of the report: the fact and what the account showed."""

    fact: Fact
    observation: Observation

    def as_dict(self) -> dict[str, Any]:
        return {
            "fact": self.fact.id,
            "api": self.fact.api,
            "question": self.fact.question,
            "simulator_assumes": self.fact.simulator,
            "observed": self.observation.observed,
            "verdict": str(self.observation.verdict),
            "evidence": self.observation.evidence,
            "source": self.fact.source,
            "writes": self.fact.writes,
        }


FACTS: tuple[Fact, ...] = (
    Fact("S1-dateModified", SYNCHROTEAM,
         "In which time zone are the date-times of Synchroteam's answers (`dateModified`)?",
         "the account's local time (the connection's `timezone`), `yyyy-MM-dd HH:mm`, no zone",
         "real-world-facts S1"),
    Fact("S1-changedSince", SYNCHROTEAM,
         "Is the `changedSince` filter read on the same local clock as the `dateModified` the account shows?",
         "yes: filters are the account's local time too, compared inclusively (`>=`)",
         "real-world-facts S1 (UNCONFIRMED)"),
    Fact("S2-details-name", SYNCHROTEAM,
         "What does `customer/details?name=X` match?",
         "the customer of lowest id whose name starts with X, ignoring case (a prefix look-up)",
         "real-world-facts S2 (UNCONFIRMED)"),
    Fact("S4-invoice-statuses", SYNCHROTEAM,
         "Which invoice statuses are in use?",
         "any status string; the known ones are draft, new, sent, paid, late (lowercase)",
         "real-world-facts S4 (UNCONFIRMED)"),
    Fact("Q1-query-case", QUICKBOOKS,
         "Does `DisplayName = '...'` in a query ignore case?",
         "no: `=` in a query is exact and case-sensitive",
         "real-world-facts Q1; quickbooks-online-api §3 (UNCONFIRMED)"),
    Fact("Q1-6240-detail", QUICKBOOKS,
         "Does the Detail of error 6240 (duplicate name) say which record holds the name (`Id=`)?",
         "no: Detail \"The name supplied already exists. : Another customer, vendor or employee is already using "
         "this name. Please use a different name.\", without `Id=`",
         "real-world-facts Q1", writes=True),
    Fact("Q1-name-rule", QUICKBOOKS,
         "Does DisplayName uniqueness ignore case and stray whitespace?",
         "yes: `ACME CORP` and `  acme   corp ` collide with `Acme Corp` (6240)",
         "real-world-facts Q1; quickbooks-online-api §9 (UNCONFIRMED)", writes=True),
    Fact("Q2-default-order", QUICKBOOKS,
         "In which order does a query without `ORDERBY` answer?",
         "Customer, Vendor, Employee by DisplayName ignoring case (then Id), not by Id",
         "real-world-facts Q2"),
    Fact("Q3-throttle-429", QUICKBOOKS,
         "What does a throttled request get back (status, body, `Retry-After`)?",
         "HTTP 429, JSON `fault` ThrottleExceeded code 3001, no `Retry-After` header",
         "real-world-facts Q3 (UNCONFIRMED)", writes=True),
    Fact("QL-customerref-in", QUICKBOOKS,
         "Does `SELECT * FROM Invoice WHERE CustomerRef IN (...)` work?",
         "yes: it answers the invoices of every listed customer (as one `=` query per customer would)",
         "quickbooks-online-api §3; load_invoices prefetch (UNCONFIRMED)"),
    Fact("QL-maxresults", QUICKBOOKS,
         "What does a query with `MAXRESULTS` over 1000 get?",
         "refused: 400 code 4001 \"MAXRESULTS must be between 1 and 1000\"",
         "quickbooks-online-api §3 (at most 1000)"),
    Fact("Q8-void-note", QUICKBOOKS,
         "What happens to an invoice's PrivateNote when it is voided?",
         "it is replaced by \"Voided\" (whatever note it had)",
         "real-world-facts Q8 (UNCONFIRMED with a note)", writes=True),
)

BY_ID = {fact.id: fact for fact in FACTS}
