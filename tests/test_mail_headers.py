"""Header injection through RFC 2047 encoded-words (CVE-2024-6923): a name such as
`=?utf-8?q?x=0D=0ABcc:_evil@example.com?=` is decoded and refolded by `email.policy.SMTP` on
Python builds without the fix, and its CR/LF came out as a real line break. Every message
here goes the real way: booked through the service, delivered by the worker over SMTP to
aiosmtpd on loopback, and judged by the raw bytes the server received."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.text import one_line
from app.mail import compose
from app.mail.delivery import deliver_due
from app.models import utcnow
from tests.conftest import make_booking
from tests.fixtures_mail import outbox_rows as rows
from tests.fixtures_mail import structure

ADA = "ada@example.com"
STAFF = "staff@mindset-tms.example"
EVIL = "evil@example.com"

# The top-level headers each kind is composed with, once each (staff notices have no Reply-To).
PATIENT_HEADERS = [
    "from",
    "to",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
]
STAFF_HEADERS = [name for name in PATIENT_HEADERS if name != "reply-to"]
# The MIME tree: with an invite, and without (reminder, staff notice).
WITH_INVITE = [
    "multipart/mixed",
    "multipart/alternative",
    "text/plain",
    "text/html",
    "text/calendar",
    "application/ics",
]
WITHOUT_INVITE = ["multipart/alternative", "text/plain", "text/html"]


@pytest.fixture
def app_settings(smtp_server):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_TIMEOUT_SECONDS": 5,
        "DEV_MAIL_VIEWER": True,
    }


def q_word(text: str, charset: str = "utf-8") -> str:
    """`text` as one RFC 2047 Q encoded-word, every byte escaped (CR and LF included)."""
    return f"=?{charset}?q?" + "".join(f"={byte:02X}" for byte in text.encode(charset)) + "?="


def b_word(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?b?" + base64.b64encode(text.encode(charset)).decode("ascii") + "?="


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def header_lines(raw: bytes) -> list[str]:
    """The raw top header block, one entry per physical line."""
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace").split("\r\n")


def assert_exactly_as_composed(
    raw: bytes, rcpt_tos: tuple[str, ...], recipient: str, headers: list[str], tree: list[str]
) -> EmailMessage:
    """What the SMTP server got has exactly the intended headers (each once), one To naming
    the intended recipient, and the intended MIME tree (so no header block was smuggled
    into the body)."""
    assert rcpt_tos == (recipient,)
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF in the raw message"
    names = [line.split(":", 1)[0].lower() for line in header_lines(raw) if line[:1] not in (" ", "\t")]
    assert sorted(names) == sorted(headers), header_lines(raw)
    message = parsed(raw)
    assert not message.defects, message.defects
    assert sorted(k.lower() for k in message.keys()) == sorted(headers)
    to = message.get_all("To")
    assert len(to) == 1 and [a.addr_spec for a in to[0].addresses] == [recipient]
    assert structure(message) == tree
    assert not message.preamble or not message.preamble.strip()
    for part in message.walk():
        assert not part.defects, part.defects
        if part is not message:
            assert {k.lower() for k in part.keys()} <= {
                "content-type",
                "content-transfer-encoding",
                "content-disposition",
            }
    return message


def test_the_old_encoded_word_breaks_are_real_on_this_python():
    """The premise: without neutralising, this Python turns a decoded CRLF into a header."""
    probe = EmailMessage(policy=email.policy.SMTP)
    probe["Subject"] = q_word("x\r\nX-Evil: 1")
    folded = probe.as_bytes(policy=email.policy.SMTP)
    if b"\r\nX-Evil: 1\r\n" not in folded:
        pytest.skip("this Python's email folding already refuses decoded line breaks")


@pytest.mark.parametrize(
    "name",
    [
        "=?utf-8?q?x=0D=0ABcc:_evil@example.com?=",
        "=?utf-8?q?Ada=0D=0AX-Evil:_1?= Lovelace",
        "Ada " + b_word("x\r\n\r\n<html>evil</html>"),
        b_word("Ada\r\nX-Evil: 1", "iso-8859-1") + " " + q_word("\r\nBcc: " + EVIL, "us-ascii"),
    ],
)
def test_a_name_of_encoded_words_cannot_add_headers_or_end_the_header_block(ctx, smtp_server, name):
    make_booking(name=name)
    report = deliver_due()
    assert (report.sent, report.failed) == (2, 0), [r.last_error for r in rows()]
    [received] = smtp_server.to(ADA)
    message = assert_exactly_as_composed(received.raw, received.rcpt_tos, ADA, PATIENT_HEADERS, WITH_INVITE)
    display = message["To"].addresses[0].display_name
    assert display == compose.display_name(compose.first_name(name))
    assert "\r" not in display and "\n" not in display
    assert "=?" not in display  # shown as typed, never decoded into something else
    [notice] = smtp_server.to(STAFF)
    assert_exactly_as_composed(notice.raw, notice.rcpt_tos, STAFF, STAFF_HEADERS, WITHOUT_INVITE)
    for got in smtp_server.received:
        # The words may be shown (as text in the To name), but never start a line.
        for line in got.raw.decode("utf-8", "replace").split("\r\n"):
            assert not line.lower().startswith(("x-evil", "bcc", "<html>")), line
        assert EVIL not in got.rcpt_tos


# --- the guard: what is read back must be what was composed ----------------------------------


def _tamper(monkeypatch, change) -> None:
    """Fault injection: the top-level message serializes to `change(bytes)`, as if folding
    had let a line break through."""
    real = EmailMessage.as_bytes

    def tampered(self, *args, **kwargs):
        return change(real(self, *args, **kwargs))

    monkeypatch.setattr(EmailMessage, "as_bytes", tampered)


def _assert_refused_and_shown(client, smtp_server, expected_error: str) -> None:
    report = deliver_due()
    assert (report.sent, report.failed) == (0, 1)
    assert smtp_server.received == []
    [row] = rows("confirmation")
    assert row.status == "failed" and row.attempts == 1
    assert expected_error in row.last_error
    assert deliver_due(now=utcnow() + timedelta(hours=6)).sent == 0
    assert smtp_server.received == [], "a refused message is never retried"
    page = client.get("/dev/mail/").get_data(as_text=True)
    assert "failed" in page and "possible header injection" in page
    assert client.get("/healthz").get_json()["outbox"]["failed"] == 1


def test_the_guard_refuses_a_message_that_reads_back_with_an_extra_header(ctx, client, smtp_server, monkeypatch):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking()
    _tamper(monkeypatch, lambda raw: raw.replace(b"\r\nSubject:", b"\r\nBcc: " + EVIL.encode() + b"\r\nSubject:", 1))
    _assert_refused_and_shown(client, smtp_server, "extra bcc")


def test_the_guard_refuses_a_message_whose_header_block_ends_early(ctx, client, smtp_server, monkeypatch):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking()
    _tamper(monkeypatch, lambda raw: raw.replace(b"\r\nReply-To:", b"\r\n\r\n<html>evil\r\nReply-To:", 1))
    _assert_refused_and_shown(client, smtp_server, "missing")


def test_the_guard_refuses_a_changed_recipient(ctx, client, smtp_server, monkeypatch):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking()
    # Same header names and count, another address in To: only the recipient check sees it.
    _tamper(monkeypatch, lambda raw: raw.replace(b"<" + ADA.encode() + b">", b"<" + EVIL.encode() + b">", 1))
    _assert_refused_and_shown(client, smtp_server, "recipients (To/Cc/Bcc) differ")


def test_the_guard_alone_stops_an_encoded_word_name(ctx, smtp_server, monkeypatch):
    """With the neutraliser taken out (the old `one_line`), the crafted name is stopped at the
    last step: by the read-back on this Python, by the library's own check where it has one."""

    def old_one_line(text: str) -> str:
        return " ".join("".join(" " if ord(c) < 32 else c for c in text).split())

    monkeypatch.setattr(compose, "one_line", old_one_line)
    monkeypatch.setattr(compose, "first_name", old_one_line)  # the whole name in To, as before
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking(name="=?utf-8?q?Ada=0D=0AX-Evil:_1?= Lovelace")
    report = deliver_due()
    assert (report.sent, report.failed) == (0, 1)
    assert smtp_server.received == []
    [row] = rows("confirmation")
    assert row.status == "failed"
    assert "extra x-evil" in row.last_error or "HeaderWriteError" in row.last_error


# --- the class, not the instance --------------------------------------------------------------

CHARSETS = ("utf-8", "iso-8859-1", "us-ascii")
DANGER = (
    "\r",
    "\n",
    "\r\n",
    "\u2028",
    "\u2029",
    "\u0085",
    "\x00",
    "\r\n\r\n<html>evil</html>",
    "\r\nBcc: " + EVIL,
    "\r\nX-Evil: 1",
    "\r\n\r\n",
    "\r\n ",
    "=?",
    "?=",
    ":",
    '"',
    "\\",
    f"<{EVIL}>, ",
    "(",
    "@",
    ";",
)
WORDS = st.sampled_from(("Ada", "Lovelace", "Zoë", "Łukasz", "李", "O'Brien", "x"))


def _q(data: bytes) -> str:
    # Letters and digits as they are, space as "_", everything else (CR, LF ...) as =XX.
    return "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else "_" if b == 0x20 else f"={b:02X}" for b in data)


@st.composite
def encoded_words(draw) -> str:
    """A run of adjacent encoded-words (Q or B, one charset) that decodes to text holding
    line breaks and header-looking lines."""
    charset = draw(st.sampled_from(CHARSETS))
    text = "".join(draw(st.lists(st.one_of(st.sampled_from(DANGER), WORDS), min_size=1, max_size=5)))
    data = text.encode(charset, "replace")
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    words = []
    for chunk in chunks:
        if draw(st.booleans()):
            words.append(f"=?{charset}?{draw(st.sampled_from('qQ'))}?{_q(chunk)}?=")
        else:
            encoded = base64.b64encode(chunk).decode("ascii")
            words.append(f"=?{charset}?{draw(st.sampled_from('bB'))}?{encoded}?=")
    # Whitespace (folding included) between encoded-words is dropped when they are decoded.
    return draw(st.sampled_from((" ", "\r\n ", "\t", ""))).join(words)


LONG_RUNS = st.one_of(
    st.integers(40, 160).map(lambda n: "x" * n),
    st.integers(5, 60).map(lambda n: " " * n),
    st.integers(10, 40).map(lambda n: "ë" * n),
)
PIECES = st.one_of(encoded_words(), st.sampled_from(DANGER), WORDS, LONG_RUNS)
HOSTILE_TEXT = st.lists(PIECES, min_size=1, max_size=5).flatmap(
    lambda pieces: st.lists(
        st.sampled_from(("", " ", "  ", "\t", "\r\n ")), min_size=len(pieces), max_size=len(pieces)
    ).map(lambda gaps: "".join(g + p for g, p in zip(gaps, pieces, strict=True)))
)
# The name column holds 200 characters.
HOSTILE_NAMES = HOSTILE_TEXT.map(lambda text: text[:200])


@given(HOSTILE_TEXT)
def test_one_line_leaves_no_line_break_control_or_encoded_word(text):
    cleaned = one_line(text)
    assert "=?" not in cleaned and cleaned == cleaned.strip() and "  " not in cleaned
    assert not any(c in "\r\n\x00\u0085\u2028\u2029" or ord(c) < 32 for c in cleaned)
    assert one_line(cleaned) == cleaned


_examples = iter(range(10**6))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(name=HOSTILE_NAMES, note=HOSTILE_TEXT, cancel_message=HOSTILE_TEXT)
def test_hostile_names_and_messages_reach_the_wire_with_exactly_the_composed_headers(
    ctx, smtp_server, name, note, cancel_message
):
    """Book, cancel (with a message for the patient), deliver: the patient's confirmation
    and cancellation and both staff notices arrive with exactly their own headers, one To
    naming the intended recipient, and the intended MIME tree."""
    with smtp_server.lock:
        smtp_server.received.clear()
    patient_address = f"p{next(_examples)}@example.com"  # each example its own patient
    result = make_booking(name=name, email=patient_address, note=note)
    service.cancel(result.booking.public_id, message=cancel_message, actor=THE_PATIENT)
    report = deliver_due()
    assert (report.sent, report.failed) == (4, 0), [r.last_error for r in rows() if r.last_error]

    to_patient = smtp_server.to(patient_address)
    assert len(to_patient) == 2
    for received in to_patient:
        message = assert_exactly_as_composed(
            received.raw, received.rcpt_tos, patient_address, PATIENT_HEADERS, WITH_INVITE
        )
        # As composed, give or take the spaces this Python's folding puts between the
        # encoded-words it writes.
        shown = message["To"].addresses[0].display_name
        assert shown.replace(" ", "") == compose.display_name(compose.first_name(name)).replace(" ", "")
        assert len(message.get_all("Subject")) == 1
    notices = smtp_server.to(STAFF)
    assert len(notices) == 2
    for received in notices:
        assert_exactly_as_composed(received.raw, received.rcpt_tos, STAFF, STAFF_HEADERS, WITHOUT_INVITE)
    assert len(smtp_server.received) == 4
