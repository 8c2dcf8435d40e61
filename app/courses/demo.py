"""Demo treatment courses for `flask seed-demo --with-bookings`: a patient from a demo
consultation in the middle of a standard course (sessions attended, one missed, the rest
planned, one today on a weekday) and a second patient's iTBS course on the other chair,
so a fresh `make run` shows a course page and a day sheet with sessions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.core.extensions import db
from app.courses import service
from app.models import Booking, Course, CourseTemplate, utcnow
from app.models.schedule import SESSION_ATTENDED, SESSION_MISSED
from app.schedule.clinic_time import clinic_today, instant

# (consultation patient's email or None, name, email, template key, weekdays back, time, chair)
DEMO_COURSES = (
    ("linda.demo@example.com", "Linda Park", "linda.demo@example.com", "rtms_36", 5, time(9, 0), 1),
    (None, "Tom Rivera", "tom.demo@example.com", "itbs_30", 3, time(9, 0), 2),
)
MISSED_SESSION = 4


def _weekdays_back(count: int) -> date:
    day = clinic_today()
    while count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def seed_demo_courses(now: datetime | None = None) -> int:
    """Plan the demo courses as if planned on their first day, then record attendance up to
    `now` (one session missed). Does nothing when there are courses already."""
    now = now or utcnow()
    if db.session.execute(select(func.count(Course.id))).scalar_one():
        return 0
    made = 0
    for booking_email, name, email, key, back, at, chair in DEMO_COURSES:
        template_id = db.session.execute(
            select(CourseTemplate.id).where(CourseTemplate.key == key)
        ).scalar_one_or_none()
        if template_id is None:
            continue
        start = _weekdays_back(back)
        planned_at = instant(start, time(7)) or now
        booking_id = (
            db.session.execute(select(Booking.id).where(Booking.email == booking_email)).scalar()
            if booking_email
            else None
        )
        course = service.plan_course(
            service.PatientDetails(name, email, "+19705550142"),
            service.PlanRequest(
                template_id,
                start,
                at,
                chair_id=chair,
                authorised_sessions=36,
                authorised_until=start + timedelta(days=90),
            ),
            booking_id=booking_id,
            now=planned_at,
        )
        stored = service.find_course(course.public_id)
        assert stored is not None, "planned just now"
        for item in stored.sessions:
            if item.starts_at < now:
                status = SESSION_MISSED if item.number == MISSED_SESSION and key == "rtms_36" else SESSION_ATTENDED
                service.record_attendance(course.public_id, item.number, status, now=now)
        made += 1
    return made
