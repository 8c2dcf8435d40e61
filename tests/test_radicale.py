"""The invites in a real CalDAV server (Radicale on loopback): the REQUEST is accepted as a new
event, the update replaces it in place, and after the CANCEL the calendar is empty again."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
import vobject

from app.booking import service
from app.core.actors import THE_PATIENT
from app.mail.delivery import deliver_due
from tests.conftest import booking_form, csrf_token, free_port, make_booking, make_slot
from tests.fixtures_mail import calendar_text, prop

AUTH = ("clinic-test", "unused")  # Radicale runs with auth type none: any password is accepted


class Radicale:
    def __init__(self, storage) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                "--server-hosts",
                f"127.0.0.1:{self.port}",
                "--storage-filesystem-folder",
                str(storage),
                "--auth-type",
                "none",
                "--rights-type",
                "owner_only",
                "--logging-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.request("OPTIONS", self.url + "/", timeout=1)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                time.sleep(0.1)
        raise RuntimeError("Radicale did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, auth=AUTH, timeout=10, **kwargs)

    def new_calendar(self, name: str) -> str:
        path = f"/{AUTH[0]}/{name}/"
        response = self.request("MKCALENDAR", path)
        assert response.status_code == 201, response.text
        return path

    def hrefs(self, collection: str) -> list[str]:
        body = '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
        response = self.request("PROPFIND", collection, headers={"Depth": "1"}, data=body)
        assert response.status_code == 207, response.text
        return [h for h in re.findall(r"<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>", response.text) if h.endswith(".ics")]

    def events(self, collection: str) -> list:
        """Every VEVENT in the collection, via a CalDAV calendar-query REPORT."""
        query = (
            '<?xml version="1.0"?>'
            '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR">'
            '<C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>'
        )
        response = self.request("REPORT", collection, headers={"Depth": "1"}, data=query)
        assert response.status_code == 207, response.text
        blocks = re.findall(r"BEGIN:VCALENDAR.*?END:VCALENDAR", response.text.replace("&#13;", "\r"), flags=re.DOTALL)
        return [vobject.readOne(block).vevent for block in blocks]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory) -> Iterator[Radicale]:
    server = Radicale(tmp_path_factory.mktemp("radicale"))
    yield server
    server.stop()


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port}


def invite_attachment(message) -> str:
    [attachment] = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    text = (
        attachment.get_content()
        if attachment.get_content_maintype() == "text"
        else attachment.get_payload(decode=True).decode("utf-8")
    )
    assert text == calendar_text(message), "the attachment is the inline invite"
    vobject.readOne(text, validate=True).validate(raiseException=True)
    return text


def test_invite_update_and_cancel_in_a_caldav_server(ctx, smtp_server, radicale):
    collection = radicale.new_calendar("moves")
    result = make_booking(mode="in_person")
    deliver_due()
    request = invite_attachment(smtp_server.to("ada@example.com")[0].message)
    uid = result.booking.ical_uid
    resource = collection + quote(uid.split("@")[0]) + ".ics"

    created = radicale.request(
        "PUT",
        resource,
        data=request.encode("utf-8"),
        headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
    )
    assert created.status_code == 201, created.text  # accepted as is, METHOD:REQUEST included
    [event] = radicale.events(collection)
    assert event.uid.value == uid and event.dtstart.value == result.booking.slot.starts_at

    new_slot = make_slot()
    service.reschedule(result.booking.public_id, new_slot.public_id, "phone", actor=THE_PATIENT)
    deliver_due()
    update = invite_attachment(smtp_server.to("ada@example.com")[1].message)
    assert prop(update, "UID") == [f"UID:{uid}"]
    replaced = radicale.request(
        "PUT",
        resource,
        data=update.encode("utf-8"),
        headers={"Content-Type": "text/calendar; charset=utf-8", "If-Match": created.headers["ETag"]},
    )
    assert replaced.status_code == 204, replaced.text  # the same event, updated in place
    assert radicale.hrefs(collection) == [resource]
    [event] = radicale.events(collection)
    assert event.uid.value == uid
    assert event.dtstart.value == new_slot.starts_at and event.sequence.value == "1"
    assert event.location.value == "Phone call"

    service.cancel(result.booking.public_id, actor=THE_PATIENT)
    deliver_due()
    cancel = invite_attachment(smtp_server.to("ada@example.com")[2].message)
    cancelled = vobject.readOne(cancel).vevent
    # What a calendar client does with a CANCEL: find the event by UID, check it is newer, remove it.
    [stored] = radicale.events(collection)
    assert cancelled.uid.value == stored.uid.value
    assert int(cancelled.sequence.value) > int(stored.sequence.value)
    assert cancelled.status.value == "CANCELLED"
    deleted = radicale.request("DELETE", resource)
    assert deleted.status_code in (200, 204)
    assert radicale.events(collection) == [] and radicale.hrefs(collection) == []


def test_a_new_user_books_and_imports_the_captured_invite(tmp_path, sqlite_url, radicale):
    """The README's local run: no MAIL_SERVER, so the worker captures mail and /dev/mail
    shows it; the captured .eml's invite goes into a calendar, moves, and disappears."""
    from tests.conftest import build_app, dispose

    app = build_app(
        sqlite_url, {"MAIL_SERVER": "", "DEV_MAIL_VIEWER": True, "MAIL_CAPTURE_DIR": str(tmp_path / "mail")}
    )
    client = app.test_client()
    try:
        with app.app_context():
            slot, later = make_slot(), make_slot()
            html = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
            response = client.post(f"/book/{slot.public_id}", data=booking_form(html))
            assert response.status_code == 303
            token = re.search(r"/manage/([^/]+)/confirmed", response.headers["Location"]).group(1)
            deliver_due()

            def latest_invite(kind: str) -> str:
                listing = client.get("/dev/mail/").get_data(as_text=True)
                ids = re.findall(r'href="/dev/mail/(\d+)/message.eml"', listing)
                for message_id in ids:  # newest first
                    raw = client.get(f"/dev/mail/{message_id}/message.eml").get_data()
                    message = email.message_from_bytes(raw, policy=email.policy.default)
                    to = message["To"].addresses[0].addr_spec
                    if kind in str(message["Subject"]) and to == "ada@example.com":
                        return invite_attachment(message)
                raise AssertionError(f"no captured '{kind}' message")

            collection = radicale.new_calendar("newuser")
            resource = collection + "consultation.ics"
            put = radicale.request("PUT", resource, data=latest_invite("booked").encode("utf-8"))
            assert put.status_code == 201

            page = client.get(f"/manage/{token}/reschedule/{later.public_id}").get_data(as_text=True)
            moved = client.post(
                f"/manage/{token}/reschedule/{later.public_id}", data={"csrf_token": csrf_token(page), "mode": "phone"}
            )
            assert moved.status_code == 303
            deliver_due()
            put = radicale.request("PUT", resource, data=latest_invite("moved").encode("utf-8"))
            assert put.status_code == 204
            [event] = radicale.events(collection)
            assert event.dtstart.value == later.starts_at

            asking = client.get(f"/manage/{token}/cancel").get_data(as_text=True)
            assert client.post(f"/manage/{token}/cancel", data={"csrf_token": csrf_token(asking)}).status_code == 303
            deliver_due()
            cancel = vobject.readOne(latest_invite("cancelled")).vevent
            assert cancel.uid.value == event.uid.value
            assert radicale.request("DELETE", resource).status_code in (200, 204)
            assert radicale.events(collection) == []
    finally:
        dispose(app)
