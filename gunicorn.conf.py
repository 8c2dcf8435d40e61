"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

Settings come from the environment: WEB_CONCURRENCY (workers), GUNICORN_BIND (address),
FORWARDED_ALLOW_IPS (proxies trusted for X-Forwarded-*), ACCESS_LOG / ERROR_LOG (file or "-"),
LOG_LEVEL, GUNICORN_MAX_REQUESTS, GUNICORN_CONTROL_SOCKET (a path turns gunicornc on).
"""

from __future__ import annotations

import os
import re

from gunicorn.glogging import Logger

from app.core.logs import app_token_paths, escape_controls, redact_tokens

# --- workers -----------------------------------------------------------------------------


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


# Sync workers: each handles one request at a time, so a slow request never stalls others
# in its process, and SQLite writers stay simple. 2 x cores + 1, capped: beyond that, extra
# processes only add memory and database connections on a small clinic server.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
workers = _int_env("WEB_CONCURRENCY", min(2 * _cores + 1, 9))
worker_class = "sync"
threads = 1

bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]

# A request that takes longer than this is stuck: the worker is killed and replaced.
timeout = 30
graceful_timeout = 30
# Ignored by sync workers (they close after each response); kept for other worker classes.
keepalive = 5

# Load the app once in the master and fork workers from it: a recycled worker is ready at
# once instead of importing everything again while requests queue behind it. (The master
# opens no database connection: create_app only wires things up.)
preload_app = True

# Recycle workers now and then so that slow leaks cannot grow; jitter keeps them from all
# restarting at once.
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 50000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0

# Worker heartbeats in memory: a slow or overlay disk cannot make the master think a
# healthy worker hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Only these addresses may set X-Forwarded-For / -Proto (the reverse proxy in front).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The control socket (gunicornc) is off unless asked for: several gunicorns on one host
# would otherwise share, and unlink, the same default socket path.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True

proc_name = "mindset-tms"

# --- logging -----------------------------------------------------------------------------

accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = os.environ.get("ERROR_LOG", "-")
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# No query strings (%(q)s, %(r)s) and no raw URI: only the method and the redacted path.
access_log_format = '%(h)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


def redact_path(path: str | None, token_paths: re.Pattern[str] | None = None) -> str:
    """/manage/AbC.../cancel -> /manage/<token>/cancel, for every route of the app that takes
    a token (app.core.logs.token_paths: the app's URL map is the one list)."""
    if not path:
        return "-"
    return redact_tokens(path, token_paths)


class RedactingLogger(Logger):
    """Gunicorn's logger with secret tokens taken out of every request path it logs, and
    without query strings or the Referer (which may carry a token too). Every value it
    writes has its control characters escaped: a path with %0A, %0D or %00 (decoded in
    PATH_INFO) stays on its one line instead of forging another or writing a NUL."""

    # The token routes of the app this worker serves (set by post_worker_init below).
    token_paths: re.Pattern[str] | None = None

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("PATH_INFO"), self.token_paths)
        atoms["U"] = path
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = "-"
        atoms["f"] = "-"
        for key in ("{raw_uri}e", "{path_info}e", "{query_string}e", "{request_uri}e", "{referer}i", "{http_referer}e"):
            atoms.pop(key, None)
        return {key: escape_controls(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def exception(self, msg, *args, **kwargs):
        # "Error handling request <uri>" would otherwise log the raw URI with its token.
        args = tuple(
            escape_controls(redact_path(a.split("?", 1)[0], self.token_paths))
            if isinstance(a, str) and a.startswith("/")
            else a
            for a in args
        )
        super().exception(msg, *args, **kwargs)


logger_class = RedactingLogger


def post_worker_init(worker):
    """Redact the token of every route the loaded app declares (a new token route is covered
    without touching this file)."""
    app = worker.wsgi
    if hasattr(app, "url_map"):
        worker.log.token_paths = app_token_paths(app)
