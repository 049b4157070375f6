"""Date shifting for Retain Longitudinal Temporal Information with Modified Dates.

Dates move by a whole number of days, so times of day never change and a DT
never needs its time part touched: intervals between any two dates of one
patient are preserved exactly.
"""

from __future__ import annotations

import datetime as _dt


def shift_da(value: str, days: int) -> str:
    """Shift a DA value (YYYYMMDD, possibly multi-valued); unparseable parts become empty."""
    return "\\".join(_shift_date_part(part.strip(), days) for part in value.split("\\"))


def shift_dt(value: str, days: int) -> str:
    """Shift the date part of a DT value, keeping its time, fraction and offset."""
    shifted = []
    for part in value.split("\\"):
        part = part.strip()
        shifted_date = _shift_date_part(part[:8], days)
        shifted.append(shifted_date + part[8:] if shifted_date else "")
    return "\\".join(shifted)


def _shift_date_part(text: str, days: int) -> str:
    if text == "":
        return ""
    try:
        day = _dt.datetime.strptime(text, "%Y%m%d").date()
        return (day + _dt.timedelta(days=days)).strftime("%Y%m%d")
    except (ValueError, OverflowError):
        # A partial or malformed date cannot be shifted reliably; dropping it
        # is safer than leaking the original.
        return ""
