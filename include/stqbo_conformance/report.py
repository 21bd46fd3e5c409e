"""The report, as JSON (for tools) and Markdown (for people and the issue it is attached to).

Both are rendered from one secret-free document: every string of it goes through ``redact.scrub`` (the API key,
the client secret and every token the clients registered, plus anything shaped like a token), and the Markdown
is scrubbed once more as a whole. Customer names of the accounts are already masked by the probes unless the
run was asked to show them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stqbo_api.redact import scrub
from stqbo_conformance.runner import Report

WHERE_TO_SEND = ("Send this report (report.md; report.json if asked) by opening an issue on the connector's "
                 "project titled \"conformance report\", with the file attached. It holds no key, secret or token; "
                 "customer names are masked unless the check ran with --show-names.")
MARKS = {"agrees": "agrees", "differs": "**differs**", "unknown": "unknown"}


def document(report: Report) -> dict[str, Any]:
    """The whole report as plain data, every string scrubbed."""
    seconds = (report.finished - report.started).total_seconds()
    data = {
        "generated_at": report.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(seconds, 1),
        "mode": "read and write (QuickBooks sandbox)" if report.write else "read-only",
        "targets": report.targets,
        "summary": report.counts(),
        "facts": [f.as_dict() for f in report.findings],
        "left_behind": report.left_behind,
        "where_to_send": WHERE_TO_SEND,
    }
    return _scrubbed(data)


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value, limit=None)
    if isinstance(value, dict):
        return {str(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(data: dict[str, Any]) -> str:
    s = data["summary"]
    lines = [
        "# Conformance report",
        "",
        f"What the accounts showed of the facts the simulators assume. Generated {data['generated_at']} "
        f"in {data['duration_seconds']} s, {data['mode']}.",
        "",
        *_target_lines(data["targets"]),
        "",
        f"**{s['agrees']} agree, {s['differs']} differ, {s['unknown']} unknown.**",
        "",
        "| fact | question | the simulator assumes | the account showed | verdict |",
        "|---|---|---|---|---|",
    ]
    for f in data["facts"]:
        lines.append(f"| {f['fact']} | {_cell(f['question'])} | {_cell(f['simulator_assumes'])} | "
                     f"{_cell(f['observed'])} | {MARKS.get(f['verdict'], f['verdict'])} |")
    if data["left_behind"]:
        lines += ["", "**Left behind** (the cleanup failed; remove them by hand):", "",
                  *(f"- {item}" for item in data["left_behind"])]
    lines += ["", "## Evidence", ""]
    for f in data["facts"]:
        lines += [f"### {f['fact']}: {f['verdict']}", "", f"Source: {f['source']}."
                  + (" Writes (only with --write on a sandbox)." if f["writes"] else ""), ""]
        if f["evidence"]:
            lines += ["```json", json.dumps(f["evidence"], indent=1, ensure_ascii=False, default=str), "```", ""]
        else:
            lines += ["(no exchange)", ""]
    lines += ["---", "", data["where_to_send"], ""]
    return scrub("\n".join(lines), limit=None) or ""


def _target_lines(targets: dict[str, Any]) -> list[str]:
    q, s = targets.get("quickbooks"), targets.get("synchroteam")
    return [
        f"- QuickBooks: {q['host']} ({q['environment']}, realm {q['realm_id']})" if q else "- QuickBooks: not given",
        f"- Synchroteam: {s['host']} (domain {s['domain']}, timezone {s['timezone']})" if s else
        "- Synchroteam: not given",
    ]


def write(report: Report, markdown_path: Path, json_path: Path) -> str:
    """Write both files (creating their folders) and return the Markdown."""
    data = document(report)
    text = markdown(data)
    for path in (markdown_path, json_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(text, encoding="utf-8")
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return text
