"""Pure course planning: which day and time each session of a course gets. No Flask, no database.

A template's cadence is a list of phases ({"weeks": n, "per_week": k}); each phase is
n * k sessions on its weekdays (five a week: Monday to Friday; three: Monday, Wednesday,
Friday; ...). A later phase starts in the week after the previous phase's last session. Each
session takes the first of its weekdays, from where the last one left off, that is open and
has a free time; on that day the time nearest the preferred time of day (wall clock, so 9:00
stays 9:00 across a daylight-saving change), on the chair asked for or else the first free
chair, preferring the chair the previous session used. A session not at the preferred time
is flagged "moved".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.models.schedule import CELL_MINUTES

# The weekdays (0 = Monday) a phase with k sessions a week uses.
WEEKDAYS = {
    1: (0,),
    2: (0, 3),
    3: (0, 2, 4),
    4: (0, 1, 3, 4),
    5: (0, 1, 2, 3, 4),
    6: (0, 1, 2, 3, 4, 5),
    7: (0, 1, 2, 3, 4, 5, 6),
}
EVERY_DAY = WEEKDAYS[7]
# How far past the last expected session the planner looks before it gives up.
SLACK_DAYS = 120

Windows = Callable[[date], Sequence[tuple[datetime, datetime]]]
IsFree = Callable[[int, datetime, datetime], bool]


@dataclass(frozen=True)
class Phase:
    weeks: int
    per_week: int

    @property
    def sessions(self) -> int:
        return self.weeks * self.per_week


@dataclass(frozen=True)
class SessionSpec:
    """What one session needs: its number in the course, its type and length, its weekdays,
    and whether it opens a new phase (so starts in the week after the previous session)."""

    number: int
    type_id: int
    minutes: int
    weekdays: tuple[int, ...]
    new_phase: bool = False


@dataclass(frozen=True)
class PlannedSession:
    number: int
    type_id: int
    minutes: int
    chair_id: int
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC
    moved: bool = False  # not at the preferred time of day
    past_authorisation: bool = False


class NoTimeFound(Exception):
    """No open, free time for a session within the planner's reach."""

    def __init__(self, number: int) -> None:
        super().__init__(f"no free time for session {number}")
        self.number = number


def phases_from(cadence: Sequence[dict]) -> list[Phase]:
    """Validated phases from a template's cadence JSON."""
    phases = [Phase(int(p["weeks"]), int(p["per_week"])) for p in cadence]
    if not phases or any(p.weeks < 1 or p.per_week not in WEEKDAYS for p in phases):
        raise ValueError("a cadence is one or more phases of at least one week, 1 to 7 a week")
    return phases


def session_specs(
    phases: Sequence[Phase], first_type: tuple[int, int], session_type: tuple[int, int]
) -> list[SessionSpec]:
    """Every session of a course: the first of the first type, the rest of the session type
    ((type id, minutes) pairs), each with its phase's weekdays."""
    specs: list[SessionSpec] = []
    for index, phase in enumerate(phases):
        for i in range(phase.sessions):
            number = len(specs) + 1
            type_id, minutes = first_type if number == 1 else session_type
            specs.append(
                SessionSpec(number, type_id, minutes, WEEKDAYS[phase.per_week], new_phase=index > 0 and i == 0)
            )
    return specs


def is_past_authorisation(
    number: int, on: date, *, self_pay: bool, authorised_sessions: int | None, authorised_until: date | None
) -> bool:
    """Whether a session falls past the insurer's authorised count or date (never for self-pay)."""
    if self_pay:
        return False
    if authorised_sessions is not None and number > authorised_sessions:
        return True
    return authorised_until is not None and on > authorised_until


def _wall_minutes(at: datetime, zone: ZoneInfo) -> int:
    local = at.astimezone(zone)
    return local.hour * 60 + local.minute


def best_time(
    on: date, minutes: int, preferred: time, chairs: Sequence[int], windows: Windows, is_free: IsFree, zone: ZoneInfo
) -> tuple[int, datetime, datetime] | None:
    """The free (chair, start, end) on `on` nearest the preferred wall-clock time (the earlier
    of two equally near), trying `chairs` in order at each time; None when the day has none."""
    length = timedelta(minutes=minutes)
    step = timedelta(minutes=CELL_MINUTES)
    wanted = preferred.hour * 60 + preferred.minute
    starts: list[datetime] = []
    for open_from, open_to in windows(on):
        cursor = open_from
        while cursor + length <= open_to:
            starts.append(cursor)
            cursor += step
    starts.sort(key=lambda s: (abs(_wall_minutes(s, zone) - wanted), s))
    for starts_at in starts:
        for chair_id in chairs:
            if is_free(chair_id, starts_at, starts_at + length):
                return chair_id, starts_at, starts_at + length
    return None


def reach(specs: Sequence[SessionSpec], start: date) -> date:
    """The last day the planner looks at for `specs` from `start`: their expected span and slack."""
    expected = sum(7 / len(spec.weekdays) for spec in specs)
    return start + timedelta(days=int(expected) + 7 + SLACK_DAYS)


def _monday_after(on: date) -> date:
    return on + timedelta(days=7 - on.weekday())


def plan(
    specs: Sequence[SessionSpec],
    start: date,
    preferred: time,
    chairs: Sequence[int],
    windows: Windows,
    is_free: IsFree,
    zone: ZoneInfo,
    *,
    busy_days: frozenset[date] | set[date] = frozenset(),
    last_day: date | None = None,
    after: date | None = None,
) -> list[PlannedSession]:
    """Days and times for `specs`, from `start` (or the day after `after`, the previous
    session's day), never two on one day nor on `busy_days` (the patient's other sessions).
    `chairs` are the chairs allowed, in order of preference. Raises NoTimeFound when a
    session finds no time before `last_day` (by default, well past the expected end)."""
    if not chairs:
        raise NoTimeFound(specs[0].number if specs else 0)
    limit = last_day or reach(specs, start if after is None else after)
    planned: list[PlannedSession] = []
    taken: dict[int, list[tuple[datetime, datetime]]] = {}

    def free(chair_id: int, starts_at: datetime, ends_at: datetime) -> bool:
        if any(s < ends_at and starts_at < e for s, e in taken.get(chair_id, ())):
            return False
        return is_free(chair_id, starts_at, ends_at)

    day = start if after is None else after + timedelta(days=1)
    previous_day = after
    for spec in specs:
        if spec.new_phase and previous_day is not None:
            day = max(day, _monday_after(previous_day))
        order = list(chairs)
        if planned and planned[-1].chair_id in order:
            order.remove(planned[-1].chair_id)
            order.insert(0, planned[-1].chair_id)
        while True:
            if day > limit:
                raise NoTimeFound(spec.number)
            if day.weekday() in spec.weekdays and day not in busy_days:
                found = best_time(day, spec.minutes, preferred, order, windows, free, zone)
                if found is not None:
                    break
            day += timedelta(days=1)
        chair_id, starts_at, ends_at = found
        taken.setdefault(chair_id, []).append((starts_at, ends_at))
        moved = _wall_minutes(starts_at, zone) != preferred.hour * 60 + preferred.minute
        planned.append(
            PlannedSession(spec.number, spec.type_id, spec.minutes, chair_id, starts_at, ends_at, moved=moved)
        )
        previous_day = day
        day += timedelta(days=1)
    return planned


def flag_authorisation(
    sessions: Sequence[PlannedSession],
    zone: ZoneInfo,
    *,
    self_pay: bool,
    authorised_sessions: int | None,
    authorised_until: date | None,
) -> list[PlannedSession]:
    """The sessions with `past_authorisation` set where the insurer's count or date is passed."""
    return [
        replace(
            s,
            past_authorisation=is_past_authorisation(
                s.number,
                s.starts_at.astimezone(zone).date(),
                self_pay=self_pay,
                authorised_sessions=authorised_sessions,
                authorised_until=authorised_until,
            ),
        )
        for s in sessions
    ]
