"""The printed day list: a day's consultations in time order with name, phone, meeting
type and reference, without the console's navigation; printing it is logged; a normal
day (16 consultations) prints on one page in chromium."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import weekday_and_date
from app.models import Slot, utcnow
from app.models.staff import AuditLog
from app.schedule.clinic_time import clinic_today
from tests.conftest import build_app, dispose, future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import signed_in_client


@pytest.fixture
def app(any_app):
    """The list itself is checked on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def desk(ctx):
    return signed_in_client(ctx, "sam@mindset-tms.example", "staff")


def test_the_day_in_time_order_with_what_the_desk_needs(desk):
    day = future_day(3)
    late = make_booking(make_slot(local_dt(day, 15)), mode="video", name="Grace Hopper", phone="+13035550199").booking
    early = make_booking(
        make_slot(local_dt(day, 9)),
        mode="in_person",
        name="María López",
        email="maria@example.com",
        phone="+19705550142",
        locale="es",
    ).booking
    gone = make_booking(make_slot(local_dt(day, 11)), name="Alan Turing", email="alan@example.com").booking
    service.cancel(gone.public_id, actor=THE_PATIENT)
    make_booking(make_slot(local_dt(day + timedelta(days=1), 9)), name="Next Day", email="n@example.com")

    page = desk.get(f"/staff/day?day={day.isoformat()}").get_data(as_text=True)
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert len(rows) == 2
    assert "9:00" in rows[0] and "María López" in rows[0] and "(970) 555-0142" in rows[0]
    assert "In person" in rows[0] and early.reference_display in rows[0] and "Español" in rows[0]
    assert "3:00" in rows[1] and "Grace Hopper" in rows[1] and "Video call" in rows[1]
    assert late.reference_display in rows[1] and "(303) 555-0199" in rows[1]
    assert "Alan Turing" not in page and "Next Day" not in page
    assert "staff-nav" not in page and "Sign out" not in page  # nothing but the list
    assert "2 consultations" in page

    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "day.print")).scalar_one()
    assert entry.details == day.isoformat() and entry.actor.email == "sam@mindset-tms.example"


def test_today_by_default_and_an_unreadable_day_is_today(desk):
    heading = weekday_and_date(clinic_today(utcnow()))
    assert heading in desk.get("/staff/day").get_data(as_text=True)
    assert heading in desk.get("/staff/day?day=not-a-date").get_data(as_text=True)
    assert "No consultations booked." in desk.get("/staff/day").get_data(as_text=True)


def test_the_dashboard_links_to_the_list_when_today_has_consultations(desk):
    assert "Print today's list" not in desk.get("/staff/").get_data(as_text=True)
    booking = make_booking(make_slot(utcnow() + timedelta(days=2))).booking
    start = local_dt(clinic_today(utcnow()), 0, 1)  # booked ahead, then put on today (the service refuses past times)
    with write_transaction() as session:
        session.execute(
            update(Slot)
            .where(Slot.id == booking.slot_id)
            .values(starts_at=start, ends_at=start + timedelta(minutes=30))
        )
    page = desk.get("/staff/").get_data(as_text=True)
    assert "Print today's list" in page and 'href="/staff/day"' in page
    assert "Ada Lovelace" in desk.get("/staff/day").get_data(as_text=True)


@pytest.fixture
def sqlite_ctx(sqlite_url):
    """The print layout does not depend on the database: one run, on SQLite."""
    app = build_app(sqlite_url)
    with app.app_context():
        yield app
    dispose(app)


@pytest.mark.browser
def test_a_normal_day_prints_on_one_page_without_the_screen_bar(sqlite_ctx, browser):
    ctx = sqlite_ctx
    desk = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    day = future_day(4)
    for i in range(16):  # 9:00 to 5:00, every half hour
        make_booking(
            make_slot(local_dt(day, 9 + i // 2, 30 * (i % 2))),
            name=f"Patient Number{i:02d} Longname",
            email=f"p{i}@example.com",
            phone=f"+1970555{i:04d}",
            mode=("in_person", "phone", "video")[i % 3],
        )

    def serve(route):
        response = desk.get(route.request.url.replace("http://clinic.test", ""))
        route.fulfill(
            status=response.status_code,
            body=response.get_data(),
            headers={"Content-Type": response.headers["Content-Type"]},
        )

    context = browser.new_context()
    page = context.new_page()
    page.route("http://clinic.test/**", serve)
    page.goto(f"http://clinic.test/staff/day?day={day.isoformat()}")
    assert page.locator("tbody tr").count() == 16
    page.emulate_media(media="print")
    assert not page.locator(".screen-only").is_visible()
    pdf = page.pdf(format="Letter")
    context.close()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, pages
