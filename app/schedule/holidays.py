"""The public holidays a US clinic usually closes on, from the `holidays` library's calendar.

Staff add them as ordinary closures (one click on Opening hours; the demo seed does it too),
so every planner sees them the one way closures are seen, and staff can remove any the clinic
keeps open.
"""

from __future__ import annotations

from datetime import date

import holidays

# The library's names; an "(observed)" day (the Friday or Monday beside a weekend holiday) counts too.
OBSERVED = ("New Year's Day", "Memorial Day", "Independence Day", "Labor Day", "Thanksgiving Day", "Christmas Day")
_OBSERVED_SUFFIX = " (observed)"


def public_holidays(first: date, last: date) -> list[tuple[date, str]]:
    """The observed holidays from `first` to `last` inclusive, soonest first, with their names."""
    calendar = holidays.country_holidays("US", years=range(first.year, last.year + 1))
    return [
        (day, name)
        for day, name in sorted(calendar.items())
        if first <= day <= last and name.removesuffix(_OBSERVED_SUFFIX) in OBSERVED
    ]
