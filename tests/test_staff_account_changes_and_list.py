"""Account changes (role, password, disabled) apply on the very next request, and the staff
bookings list shows each account its own name and menu, new bookings at once, a flashed
message once, and a sign-out form that works. A new worker process can answer a signed-in
page first."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app.staff import accounts
from tests.conftest import future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import STAFF_PASSWORD, make_staff, sign_in, staff_post

SAM = "sam@mindset-tms.example"
ROBIN = "robin@mindset-tms.example"
ALEX = "alex@mindset-tms.example"
ADMIN_LINK = 'href="/staff/accounts"'


def signed_in(app, email: str, name: str, role: str = "staff"):
    """A new client signed in to a new account called `name`."""
    with app.app_context():
        make_staff(email, role, name=name)
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return client


def account_id(app, email: str) -> int:
    with app.app_context():
        return accounts.find_by_email(email).id


def list_page(client, query: str = "") -> str:
    response = client.get("/staff/bookings" + query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def signed_in_as(html: str) -> tuple[str, str]:
    match = re.search(r"Signed in as <strong>([^<]*)</strong> \((\w+)\)", html)
    assert match, "no signed-in line on the page"
    return match.group(1), match.group(2)


def sign_out_token(html: str) -> str:
    match = re.search(r'action="/staff/sign-out">\s*<input name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no sign-out form on the page"
    return match.group(1)


# --- account changes are read on every request -----------------------------------------------


def test_account_changes_apply_on_the_very_next_request(app):
    with app.app_context():
        make_staff(ALEX, "admin", name="Alex Admin")  # so Sam may be demoted again
    sam = signed_in(app, SAM, "Sam Lee")
    sam_id = account_id(app, SAM)
    assert sam.get("/staff/audit").status_code == 403

    with app.app_context():
        accounts.set_role(sam_id, "admin")
    assert sam.get("/staff/audit").status_code == 200
    dashboard = sam.get("/staff/")
    assert dashboard.status_code == 200 and ADMIN_LINK in dashboard.get_data(as_text=True)

    with app.app_context():
        accounts.set_role(sam_id, "staff")
    assert sam.get("/staff/audit").status_code == 403
    assert ADMIN_LINK not in sam.get("/staff/").get_data(as_text=True)

    with app.app_context():
        accounts.set_password(sam_id, "reset by the admin today")
    gone = sam.get("/staff/bookings")
    assert gone.status_code == 302 and "/staff/sign-in" in gone.headers["Location"]
    assert sign_in(sam, SAM, STAFF_PASSWORD).status_code == 401
    assert sign_in(sam, SAM, "reset by the admin today").status_code == 303
    assert sam.get("/staff/bookings").status_code == 200

    with app.app_context():
        accounts.set_active(sam_id, False)
    gone = sam.get("/staff/bookings")
    assert gone.status_code == 302 and "/staff/sign-in" in gone.headers["Location"]
    assert sam.get("/staff/").status_code == 302


# --- the bookings list ----------------------------------------------------------------------


def test_each_account_sees_its_own_name_on_the_list(app):
    sam = signed_in(app, SAM, "Sam Lee")
    robin = signed_in(app, ROBIN, "Robin Park")
    for client, name in ((sam, "Sam Lee"), (robin, "Robin Park"), (sam, "Sam Lee"), (robin, "Robin Park")):
        html = list_page(client)
        assert signed_in_as(html) == (name, "staff")
        other = "Robin Park" if name == "Sam Lee" else "Sam Lee"
        assert other not in html
        assert f'<span class="visually-hidden"> {name}</span>' in html  # the sign-out button


def test_new_booking_shows_on_the_next_list_view(app):
    sam = signed_in(app, SAM, "Sam Lee")
    query = "?when=upcoming&status=confirmed"
    assert "Grace Hopper" not in list_page(sam, query)
    assert "Grace Hopper" not in list_page(sam, query)
    with app.app_context():
        make_booking(make_slot(local_dt(future_day(4), 10)), name="Grace Hopper", email="grace@navy.example")
    assert "Grace Hopper" in list_page(sam, query)
    assert "Grace Hopper" in list_page(sam)
    assert "Grace Hopper" not in list_page(sam, "?status=cancelled")  # each query its own page


def test_role_change_shows_on_the_next_list_view(app):
    with app.app_context():
        make_staff(ALEX, "admin", name="Alex Admin")
    sam = signed_in(app, SAM, "Sam Lee")
    sam_id = account_id(app, SAM)
    for _ in range(2):
        html = list_page(sam)
        assert signed_in_as(html) == ("Sam Lee", "staff") and ADMIN_LINK not in html
    with app.app_context():
        accounts.set_role(sam_id, "admin")
    html = list_page(sam)
    assert signed_in_as(html) == ("Sam Lee", "admin") and ADMIN_LINK in html
    with app.app_context():
        accounts.set_role(sam_id, "staff")
    html = list_page(sam)
    assert signed_in_as(html) == ("Sam Lee", "staff") and ADMIN_LINK not in html


def test_flashed_message_shows_once_on_the_list(app):
    sam = signed_in(app, SAM, "Sam Lee")
    day = future_day(5)
    with app.app_context():
        make_booking(make_slot(local_dt(day, 10)), name="Ada Lovelace")
    target = f"/staff/bookings?date_from={day.isoformat()}&date_to={day.isoformat()}&status=confirmed&when=all"
    kept = "1 booked consultation(s) on those days are kept"
    list_page(sam, target.removeprefix("/staff/bookings"))  # the same page, before the message
    closed = staff_post(
        sam, "/staff/hours/closed", {"first": day.isoformat(), "last": "", "reason": ""}, token_from="/staff/hours"
    )
    assert closed.status_code == 303 and closed.headers["Location"] == target

    shown = sam.get(target).get_data(as_text=True)
    assert shown.count(kept) == 1 and shown.count("The clinic is closed") == 1
    assert "Ada Lovelace" in shown
    after = sam.get(target).get_data(as_text=True)
    assert kept not in after and "The clinic is closed" not in after
    assert "Ada Lovelace" in after


def test_sign_out_from_the_list_page_works_for_each_session(app):
    laptop = signed_in(app, SAM, "Sam Lee")
    tablet = app.test_client()  # a second session of the same account
    assert sign_in(tablet, SAM).status_code == 303
    for client in (laptop, tablet):
        client.get("/staff/")  # the session's CSRF secret
    laptop_page = list_page(laptop)
    tablet_page = list_page(tablet)
    assert sign_out_token(tablet_page) != sign_out_token(laptop_page)  # its own session's token

    for client, html in ((laptop, laptop_page), (tablet, tablet_page)):
        response = client.post("/staff/sign-out", data={"csrf_token": sign_out_token(html)})
        assert response.status_code == 303 and "/staff/sign-in" in response.headers["Location"]
        assert client.get("/staff/bookings").status_code == 302


FIRST_REQUEST = """
import sys
from app import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": sys.argv[2], "MAIL_SERVER": ""})
client = app.test_client()
client.set_cookie("session", sys.argv[3])
response = client.get("/staff/bookings")
print(response.status_code, "Signed in as" in response.get_data(as_text=True))
"""


def test_a_new_worker_can_answer_a_signed_in_page_first(app):
    """A gunicorn worker whose very first request is a signed-in staff page (the sign-in was
    served by another worker): the session row is found there too."""
    client = signed_in(app, SAM, "Sam Fresh")
    cookie = client.get_cookie("session").value
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST, app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"], cookie],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["200", "True"], done.stdout[-500:] + done.stderr[-2000:]
