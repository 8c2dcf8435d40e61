"""Calendar replies (iMIP, RFC 6047) as Gmail, Outlook and Apple Calendar write them, and
other mail a clinic's address gets, as raw RFC 5322 bytes."""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime, timedelta

CLINIC = "bookings@mindset-tms.example"


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _crlf(text: str) -> str:
    return "\r\n".join(text.strip("\n").split("\n")) + "\r\n"


def _b64(text: str) -> str:
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def _auth(result: str) -> str:
    return (
        f"Authentication-Results: mx.mindset-tms.example;\r\n"
        f"       dkim=pass header.i=@example.com header.s=20230601 header.b=abc;\r\n"
        f"       spf=pass smtp.mailfrom=ada@example.com;\r\n"
        f"       dmarc={result} (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.com\r\n"
    )


def google_reply(
    uid: str,
    starts_at: datetime,
    partstat: str = "DECLINED",
    *,
    sequence: int = 0,
    attendee: str = "ada@example.com",
    sender: str = "ada@example.com",
    name: str = "Ada Lovelace",
    dmarc: str = "pass",
) -> bytes:
    """What Google Calendar sends when an invitee presses Yes / Maybe / No: multipart/mixed
    with a 7bit text/calendar; method=REPLY beside the text, and the same as invite.ics."""
    ends_at = starts_at + timedelta(minutes=30)
    verb = {"DECLINED": "Declined", "ACCEPTED": "Accepted", "TENTATIVE": "Tentatively Accepted"}[partstat]
    calendar = _crlf(f"""BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:REPLY
BEGIN:VEVENT
DTSTART:{_stamp(starts_at)}
DTEND:{_stamp(ends_at)}
DTSTAMP:20261207T181503Z
ORGANIZER;CN=Mindset TMS:mailto:{CLINIC}
UID:{uid}
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};CN={name};X-
 NUM-GUESTS=0:mailto:{attendee}
CREATED:20261207T170000Z
DESCRIPTION:Your consultation with Mindset TMS.
LAST-MODIFIED:20261207T181503Z
LOCATION:Phone call
SEQUENCE:{sequence}
STATUS:CONFIRMED
SUMMARY:Consultation – Mindset TMS
TRANSP:OPAQUE
END:VEVENT
END:VCALENDAR""")
    message = f"""Delivered-To: {CLINIC}
Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])
        by mx.mindset-tms.example with SMTPS id a1sor123;
        Mon, 07 Dec 2026 10:15:04 -0800 (PST)
{_auth(dmarc).rstrip()}
MIME-Version: 1.0
Reply-To: {name} <{sender}>
Sender: Google Calendar <calendar-notification@google.com>
Message-ID: <calendar-7f3c2a10-1b2c-4d5e-8f90-123456789abc@google.com>
Date: Mon, 07 Dec 2026 18:15:03 +0000
Subject: {verb}: Consultation – Mindset TMS @ Tue Dec 8, 2026 9am - 9:30am (MST) ({attendee})
From: {name} <{sender}>
To: {CLINIC}
Content-Type: multipart/mixed; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: multipart/alternative; boundary="000000000000a1b2c2"

--000000000000a1b2c2
Content-Type: text/plain; charset="UTF-8"; format=flowed; delsp=yes

{name} has {verb.lower()} this invitation.

Consultation – Mindset TMS
Tuesday Dec 8, 2026 ⋅ 9am – 9:30am (Mountain Standard Time - Denver)

Invitation from Google Calendar

--000000000000a1b2c2
Content-Type: text/html; charset="UTF-8"

<p>{name} has {verb.lower()} this invitation.</p>

--000000000000a1b2c2
Content-Type: text/calendar; charset="UTF-8"; method=REPLY
Content-Transfer-Encoding: 7bit

{calendar}
--000000000000a1b2c2--

--000000000000a1b2c3
Content-Type: application/ics; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"
Content-Transfer-Encoding: base64

{_b64(calendar)}
--000000000000a1b2c3--
"""
    return message.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def outlook_reply(
    uid: str,
    starts_at: datetime,
    partstat: str = "ACCEPTED",
    *,
    sequence: int = 0,
    attendee: str = "ada@example.com",
    sender: str = "ada@example.com",
    method: str = "REPLY",
    proposed_start: datetime | None = None,
) -> bytes:
    """What Outlook (Exchange Online) sends: multipart/alternative with a base64
    text/calendar; method=REPLY (or COUNTER for "Propose new time"), times in a Windows zone."""
    start = proposed_start or starts_at
    local = start.astimezone(UTC) - timedelta(hours=7)  # Mountain Standard Time in December
    verb = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    subject = (
        "New Time Proposed: Consultation – Mindset TMS"
        if method == "COUNTER"
        else f"{verb}: Consultation – Mindset TMS"
    )
    counter = "X-MS-OLK-ORIGINALSTART:" + _stamp(starts_at) + "\n" if method == "COUNTER" else ""
    calendar = _crlf(f"""BEGIN:VCALENDAR
METHOD:{method}
PRODID:Microsoft Exchange Server 2010
VERSION:2.0
BEGIN:VTIMEZONE
TZID:Mountain Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0600
TZOFFSETTO:-0700
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0700
TZOFFSETTO:-0600
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
ATTENDEE;PARTSTAT={partstat};CN=Ada Lovelace:MAILTO:{attendee}
COMMENT;LANGUAGE=en-US:Could we do a bit later?\\n
SUMMARY;LANGUAGE=en-US:{verb}: Consultation – Mindset TMS
DTSTART;TZID=Mountain Standard Time:{local.strftime("%Y%m%dT%H%M%S")}
DTEND;TZID=Mountain Standard Time:{(local + timedelta(minutes=30)).strftime("%Y%m%dT%H%M%S")}
UID:{uid}
CLASS:PUBLIC
PRIORITY:5
DTSTAMP:20261207T181503Z
TRANSP:OPAQUE
STATUS:CONFIRMED
SEQUENCE:{sequence}
LOCATION;LANGUAGE=en-US:Phone call
{counter}X-MICROSOFT-CDO-APPT-SEQUENCE:{sequence}
X-MICROSOFT-CDO-OWNERAPPTID:-1
X-MICROSOFT-CDO-BUSYSTATUS:BUSY
X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY
X-MICROSOFT-CDO-ALLDAYEVENT:FALSE
X-MICROSOFT-CDO-IMPORTANCE:1
X-MICROSOFT-CDO-INSTTYPE:0
END:VEVENT
END:VCALENDAR""")
    message = f"""Received: from NAM12-DM6-obe.outbound.protection.outlook.com (40.107.243.44)
 by mx.mindset-tms.example; Mon, 7 Dec 2026 18:15:04 +0000
{_auth("pass").rstrip()}
From: Ada Lovelace <{sender}>
To: Mindset TMS <{CLINIC}>
Subject: {subject}
Thread-Topic: Consultation – Mindset TMS
Date: Mon, 7 Dec 2026 18:15:03 +0000
Message-ID: <SA1PR12MB6945A1B2C3D4E5F6@SA1PR12MB6945.namprd12.prod.outlook.com>
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
MIME-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="_000_SA1PR12MB6945A1B2C3D4E5F6_"

--_000_SA1PR12MB6945A1B2C3D4E5F6_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Could we do a bit later?

--_000_SA1PR12MB6945A1B2C3D4E5F6_
Content-Type: text/calendar; charset="utf-8"; method={method}
Content-Transfer-Encoding: base64

{_b64(calendar)}

--_000_SA1PR12MB6945A1B2C3D4E5F6_--
"""
    return message.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def apple_reply(
    uid: str,
    starts_at: datetime,
    partstat: str = "TENTATIVE",
    *,
    sequence: int = 0,
    attendee: str = "ada@example.com",
    sender: str = "ada@example.com",
) -> bytes:
    """What Apple Calendar (macOS, iCloud) sends: multipart/alternative with a
    quoted-printable text/calendar; method=REPLY named iCal-....ics, the attendee's address
    also in an EMAIL parameter."""
    calendar = _crlf(f"""BEGIN:VCALENDAR
METHOD:REPLY
VERSION:2.0
PRODID:-//Apple Inc.//macOS 15.1//EN
BEGIN:VEVENT
ATTENDEE;CN="Ada Lovelace";CUTYPE=INDIVIDUAL;EMAIL="{attendee}";PARTSTAT={partstat};
 ROLE=REQ-PARTICIPANT:mailto:{attendee}
DTEND:{_stamp(starts_at + timedelta(minutes=30))}
DTSTAMP:20261207T181503Z
DTSTART:{_stamp(starts_at)}
ORGANIZER;CN="Mindset TMS":mailto:{CLINIC}
REQUEST-STATUS:2.0;Success
SEQUENCE:{sequence}
SUMMARY:Consultation – Mindset TMS
UID:{uid}
END:VEVENT
END:VCALENDAR""")
    encoded = quopri.encodestring(calendar.encode("utf-8")).decode("ascii")
    message = f"""From: Ada Lovelace <{sender}>
Content-Type: multipart/alternative; boundary="Apple-Mail=_5C3E1D2A-7B1F-4E6A-9C0D-8F2B1A3C4D5E"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.200.121\\))
Subject: Invitation: Consultation – Mindset TMS @ 8 Dec 2026 09:00 (tentative)
Date: Mon, 7 Dec 2026 11:15:03 -0700
Message-Id: <9E1B2C3D-4F5A-6B7C-8D9E-0F1A2B3C4D5E@example.com>
To: Mindset TMS <{CLINIC}>
X-Mailer: Apple Mail (2.3826.200.121)

--Apple-Mail=_5C3E1D2A-7B1F-4E6A-9C0D-8F2B1A3C4D5E
Content-Transfer-Encoding: 7bit
Content-Type: text/plain; charset=us-ascii

Ada Lovelace has tentatively accepted.

--Apple-Mail=_5C3E1D2A-7B1F-4E6A-9C0D-8F2B1A3C4D5E
Content-Transfer-Encoding: quoted-printable
Content-Type: text/calendar; charset=utf-8; method=REPLY; name=iCal-20261207-111503.ics

{encoded}
--Apple-Mail=_5C3E1D2A-7B1F-4E6A-9C0D-8F2B1A3C4D5E--
"""
    return message.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def plain_message(
    text: str = "Hi, can I bring my husband to the consultation? Thanks, Ada", sender: str = "ada@example.com"
) -> bytes:
    """An ordinary email to the clinic's address (a reply to a confirmation, say)."""
    message = f"""From: Ada Lovelace <{sender}>
To: Mindset TMS <{CLINIC}>
Subject: Re: Your consultation is booked – Mindset TMS
Date: Mon, 7 Dec 2026 11:20:00 -0700
Message-ID: <CAF=abc123@mail.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 8bit

{text}
"""
    return message.replace("\n", "\r\n").encode("utf-8")
