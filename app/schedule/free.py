"""What is free: the starts on a day when a visit of a given length fits inside opening hours
on a chair no session holds (any chair, or the ones asked for). For showing choices;
`holds.hold` is what decides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from app.core.timefmt import clinic_zone
from app.models import utcnow
from app.schedule import holds, resources
from app.schedule.opening_hours import opening_windows


def free_times(
    on: date,
    minutes: int,
    chair_ids: Sequence[int] | None = None,
    except_session_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> list[tuple[datetime, int]]:
    """(start, chair id) for each start on `on` (five-minute steps, not before `now`) at which
    `minutes` fit on some chair, taking the chairs in their order; `except_session_ids` do not
    block (a session being moved)."""
    chairs = list(chair_ids) if chair_ids is not None else [c.id for c in resources.chairs(active_only=True)]
    zone = clinic_zone()
    lower = datetime.combine(on, time(0), zone)
    held = holds.held_cells(chairs, lower, lower + timedelta(days=2), except_session_ids)
    earliest = now or utcnow()
    length, step = timedelta(minutes=minutes), timedelta(minutes=5)
    found: list[tuple[datetime, int]] = []
    for open_from, open_to in opening_windows(on):
        cursor = open_from
        while cursor + length <= open_to:
            if cursor >= earliest:
                wanted = holds.cells(cursor, cursor + length)
                chair = next((c for c in chairs if not any(cell in held[c] for cell in wanted)), None)
                if chair is not None:
                    found.append((cursor, chair))
            cursor += step
    return found
