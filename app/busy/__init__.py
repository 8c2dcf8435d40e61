"""Busy calendars: other calendars of the person who holds consultations (ICS links or
CalDAV collections) are read on a schedule, and a slot overlapping a busy time is not
offered. `rules` decides what counts as busy, `fetch` downloads a source safely, `reader`
reads one source in a child process bounded in time and memory, `service` syncs and
manages sources, `overlap` is the one clause slot queries use."""
