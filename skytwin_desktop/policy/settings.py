"""The person's autonomy settings as the evaluator reads them: built once when they change, so
`evaluate` does no parsing, sorting or I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from skytwin_desktop.policy.model import normalize_domain
from skytwin_desktop.policy.rules import DEFAULT_RULES, Rule


@dataclass(frozen=True, slots=True)
class PolicySettings:
    paused: bool = False
    """The person's own pause (the operator switch is the evaluator's)."""
    paused_reason: str | None = None
    timezone: str = "UTC"
    """IANA name; quiet hours are judged on this wall clock."""
    quiet_hours: tuple[time, time] | None = None
    """[start, end); a window across midnight wraps; start == end is never quiet; None is off."""
    allowed_domains: frozenset[str] = frozenset()
    """When non-empty, actions concerning any other domain are denied."""
    blocked_domains: frozenset[str] = frozenset()
    require_approval_for_irreversible: bool = True
    rules: tuple[Rule, ...] = ()
    """The person's own rules."""
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    ordered_rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)
    """The person's rules and the built-in default, in the order they are checked."""
    allowed_suffixes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    blocked_suffixes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """'.example.com' for example.com: its subdomains, for one `str.endswith` per action."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        for name in ("allowed_domains", "blocked_domains"):
            cleaned = (normalize_domain(d) for d in getattr(self, name))
            domains = frozenset(d for d in cleaned if d)
            object.__setattr__(self, name, domains)
            object.__setattr__(self, name.replace("_domains", "_suffixes"), tuple(f".{d}" for d in sorted(domains)))
        if self.quiet_hours is not None and any(t.tzinfo is not None for t in self.quiet_hours):
            raise ValueError("quiet hours are wall-clock times in the person's timezone: give them without tzinfo")
        ordered = sorted((*self.rules, *DEFAULT_RULES), key=lambda rule: rule.priority)
        object.__setattr__(self, "ordered_rules", tuple(ordered))
