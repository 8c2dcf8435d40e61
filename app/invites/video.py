"""The address of a video consultation's call: the one staff set for the booking, else
VIDEO_URL, a fixed room or a template whose `{room}` becomes the booking's own room (random,
so no one can guess another patient's call). Works on a booking or an email's snapshot."""

from __future__ import annotations

from typing import Protocol

from flask import current_app


class HasVideo(Protocol):
    mode: str
    video_room: str | None
    custom_video_url: str | None


def video_link(booking: HasVideo) -> str | None:
    """The call's address, or None: not a video booking, or no address set (the clinic then
    calls the patient with the link)."""
    if booking.mode != "video":
        return None
    if booking.custom_video_url:
        return booking.custom_video_url
    template = current_app.config.get("VIDEO_URL") or ""
    if not template or ("{room}" in template and not booking.video_room):
        return None
    return template.replace("{room}", booking.video_room or "")
