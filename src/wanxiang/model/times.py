"""CI's time format: ``2022-07-18T15:16:43+0800``; ``-`` for a time not reached yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CI_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
NOT_YET = "-"
# The service renders China time; clients parse the offset, so any zone is faithful. We keep +0800
# because every sample and every SDK test fixture shows it.
CI_ZONE = timezone(timedelta(hours=8))


def now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime | None, *, sep: str = "T") -> str:
    if moment is None:
        return NOT_YET
    fmt = CI_FORMAT if sep == "T" else CI_FORMAT.replace("T", sep)
    return moment.astimezone(CI_ZONE).strftime(fmt)


def parse_time(value: str) -> datetime:
    """Parse a CI time; accepts ``+0800``, ``+08:00`` and ``Z``. Raises ValueError."""
    raw = value.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+0000"
    for fmt in (CI_FORMAT, "%Y-%m-%d %H:%M:%S%z"):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return datetime.fromisoformat(raw) if "T" in raw and ("+" in raw or "-" in raw[10:]) else _fail(value)


def _fail(value: str) -> datetime:
    raise ValueError(f"not a CI time: {value!r}")
