"""The opening-hours line on public pages and in emails, worked out from the weekly hours."""

from __future__ import annotations

from datetime import time

from app.schedule.opening_hours import NO_HOURS, clock, summarise


def weekdays(days, start, end):
    return [(d, time(*start), time(*end)) for d in days]


def test_clock_reads_as_patients_write_it():
    assert [clock(time(9)), clock(time(12)), clock(time(0, 30)), clock(time(17, 15))] == [
        "9:00 a.m.",
        "12:00 p.m.",
        "12:30 a.m.",
        "5:15 p.m.",
    ]


def test_weekdays_and_saturday():
    ranges = weekdays(range(5), (9,), (17,)) + weekdays([5], (9,), (12,))
    assert summarise(ranges) == "Monday to Friday 9:00 a.m.\u20135:00 p.m., Saturday 9:00 a.m.\u201312:00 p.m."


def test_split_days_touching_ranges_and_gaps():
    ranges = (
        weekdays([0, 2, 3, 4], (9,), (12,))
        + weekdays([0, 2, 3, 4], (13,), (17,))
        + weekdays([1], (9,), (12,))
        + weekdays([1], (12,), (15,))
    )
    assert summarise(ranges) == (
        "Monday, Wednesday to Friday 9:00 a.m.\u201312:00 p.m. and "
        "1:00 p.m.\u20135:00 p.m., Tuesday 9:00 a.m.\u20133:00 p.m."
    )
    assert summarise(weekdays([0, 1], (10,), (14,))) == "Monday and Tuesday 10:00 a.m.\u20132:00 p.m."


def test_no_hours():
    assert summarise([]) == str(NO_HOURS)


def test_the_public_footer_follows_the_opening_hours(app, client):
    from app.core.database import write_transaction
    from app.models import AvailabilityRule

    assert str(NO_HOURS) in client.get("/about").get_data(as_text=True)
    with app.app_context(), write_transaction() as session:
        for day in range(5):
            session.add(AvailabilityRule(weekday=day, start_time=time(9), end_time=time(17)))
        session.add(AvailabilityRule(weekday=5, start_time=time(9), end_time=time(12)))
    html = client.get("/about").get_data(as_text=True)
    assert "Saturday 9:00 a.m.\u201312:00 p.m." in html
    assert "Monday to Friday 9:00 a.m.\u20135:00 p.m." in html


def test_an_unreachable_database_gives_a_plain_line(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.core.extensions import db
    from app.schedule import opening_hours

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", refuse)
        assert opening_hours.current_summary() == opening_hours.UNKNOWN_HOURS


def test_spanish_pages_say_the_hours_in_spanish(app, client):
    from app.core.database import write_transaction
    from app.models import AvailabilityRule

    with app.app_context(), write_transaction() as session:
        for day in range(5):
            session.add(AvailabilityRule(weekday=day, start_time=time(9), end_time=time(17)))
    html = client.get("/es/about").get_data(as_text=True)
    assert "de lunes a viernes 9:00" in html
    assert "Monday" not in html
