"""List parameters shared by batch jobs and workflow executions (case-insensitive names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from wanxiang.model import times
from wanxiang.model.errors import invalid_argument
from wanxiang.model.job import ALL_STATES
from wanxiang.store.codec import decode_token
from wanxiang.store.paging import PageWindow

MAX_PAGE = 100
JOB_STATES = tuple(state.value for state in ALL_STATES)


def parse_list_common(params: Mapping[str, str], states: Sequence[str] = JOB_STATES) -> PageWindow:
    """The window every keyset list shares, from query parameters looked up case-insensitively."""
    p = {k.lower(): v for k, v in params.items() if v != ""}
    order = p.get("orderbytime", "Desc")
    if order not in ("Desc", "Asc"):
        raise invalid_argument(f"orderByTime must be Desc or Asc, not {order!r}.")
    raw_size = p.get("size", "10")
    if not (raw_size.isascii() and raw_size.isdigit()) or not 1 <= int(raw_size) <= MAX_PAGE:
        raise invalid_argument(f"size must be an integer from 1 to {MAX_PAGE}, not {raw_size!r}.")
    wanted = [s.strip() for s in p.get("states", "All").split(",") if s.strip()]
    for state in wanted:
        if state != "All" and state not in states:
            raise invalid_argument(f"states: {state!r} is not one of All, {', '.join(states)}.")
    token = p.get("nexttoken")
    if token:
        try:
            decode_token(token)
        except (ValueError, UnicodeDecodeError) as exc:
            raise invalid_argument(f"nextToken {token!r} is not a token this server issued.") from exc
    return PageWindow(
        states=[] if "All" in wanted else wanted,
        start_creation=time_param(p, "startcreationtime", "startCreationTime"),
        end_creation=time_param(p, "endcreationtime", "endCreationTime"),
        ascending=order == "Asc",
        size=int(raw_size),
        next_token=token,
    )


def time_param(p: Mapping[str, str], key: str, name: str) -> datetime | None:
    raw = p.get(key)
    if not raw:
        return None
    try:
        return times.parse_time(raw)
    except ValueError as exc:
        raise invalid_argument(f"{name} {raw!r} is not a time like 2022-07-18T15:16:43+0800.") from exc


def page_params(p: Mapping[str, str]) -> tuple[int, int]:
    """pageNumber and pageSize (already lower-cased keys, empty values dropped)."""
    number, size = p.get("pagenumber", "1"), p.get("pagesize", "10")
    if not (number.isascii() and number.isdigit()) or int(number) < 1:
        raise invalid_argument(f"pageNumber must be a positive integer, not {number!r}.")
    if not (size.isascii() and size.isdigit()) or not 1 <= int(size) <= MAX_PAGE:
        raise invalid_argument(f"pageSize must be an integer from 1 to {MAX_PAGE}, not {size!r}.")
    return int(number), int(size)
