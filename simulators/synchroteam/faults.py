"""Fault rules injected through `/_sim/faults`, matched against API requests in the order they were added."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from simulators.synchroteam.errors import bad_request

ACTIONS = ("error", "timeout", "drop_after_commit", "throttle")


@dataclass
class FaultRule:
    path: str
    action: str
    method: str | None = None
    status: int = 500
    times: int = 1  # 0 = unlimited
    probability: float = 1.0
    delay: float = 30.0
    retry_after: int | None = None
    message: str | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path, re.IGNORECASE)

    @classmethod
    def parse(cls, raw: Any) -> FaultRule:
        if not isinstance(raw, dict):
            raise bad_request("each fault must be an object")
        action = raw.get("action", "error")
        if action not in ACTIONS:
            raise bad_request(f"'action' must be one of {', '.join(ACTIONS)}")
        try:
            return cls(
                path=str(raw.get("path", "")),
                action=action,
                method=str(raw["method"]).upper() if raw.get("method") else None,
                status=int(raw.get("status", 429 if action == "throttle" else 500)),
                times=int(raw.get("times", 1)),
                probability=float(raw.get("probability", 1.0)),
                delay=float(raw.get("delay", 30.0)),
                retry_after=None if raw.get("retry_after") is None else int(raw["retry_after"]),
                message=raw.get("message"),
            )
        except (TypeError, ValueError, re.error) as exc:
            raise bad_request(f"bad fault rule: {exc}") from exc

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self._regex.search(path))

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "action": self.action, "method": self.method, "status": self.status,
            "times": self.times, "probability": self.probability, "delay": self.delay,
            "retry_after": self.retry_after, "fired": self.fired,
        }


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.rng = random.Random()

    def add(self, raw_rules: Any) -> list[FaultRule]:
        if not isinstance(raw_rules, list):
            raise bad_request("'faults' must be a list")
        parsed = [FaultRule.parse(r) for r in raw_rules]
        self.rules.extend(parsed)
        return parsed

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule that fires (probability), counting it down and dropping it when spent."""
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            if rule.times and rule.fired >= rule.times:
                self.rules.remove(rule)
            return rule
        return None
