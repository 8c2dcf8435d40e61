"""Reading inbound mail from an IMAP mailbox (IMAP_HOST, IMAP_USER, IMAP_PASSWORD): each
message in IMAP_FOLDER is handled, then moved to IMAP_DONE_FOLDER, so none is read twice."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from imapclient import IMAPClient

from app.replies.service import Outcome, handle_message

log = logging.getLogger("app.replies")

BATCH_SIZE = 50  # messages handled per round; the rest wait for the next


@dataclass(frozen=True)
class PollReport:
    handled: int
    left: int

    def __str__(self) -> str:
        return f"{self.handled} handled, {self.left} left for the next round"


def poll_mailbox(handle: Callable[[bytes], Outcome] = handle_message) -> PollReport:
    """Handle the mailbox's messages, oldest first, moving each one away once handled. A
    message whose handling fails (the database is away) stays where it is for the next round."""
    config = current_app.config
    timeout = config["MAIL_TIMEOUT_SECONDS"]
    use_ssl = config["IMAP_SSL"]
    done = config["IMAP_DONE_FOLDER"]
    with IMAPClient(
        config["IMAP_HOST"],
        port=config["IMAP_PORT"],
        ssl=use_ssl,
        ssl_context=ssl.create_default_context() if use_ssl else None,
        timeout=timeout,
    ) as client:
        client.login(config["IMAP_USER"], config["IMAP_PASSWORD"])
        if not client.folder_exists(done):
            client.create_folder(done)
        client.select_folder(config["IMAP_FOLDER"])
        uids = sorted(client.search(["NOT", "DELETED"]))
        handled = 0
        for uid in uids[:BATCH_SIZE]:
            raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
            if raw is None:  # expunged by another reader meanwhile
                continue
            outcome = handle(raw)
            log.info("inbound message %s: %s", uid, outcome)
            _move(client, uid, done)
            handled += 1
        return PollReport(handled=handled, left=max(0, len(uids) - BATCH_SIZE))


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.delete_messages([uid])
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])
    else:
        client.expunge()
