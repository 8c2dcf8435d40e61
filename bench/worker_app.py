"""The app as the bench's mail worker sees it: wsgi.py's, except that captured mail goes
to BENCH_MAIL_CAPTURE_DIR (the run's temp dir), not into the checkout's instance/mail."""

import os

from app import create_app

app = create_app({"MAIL_CAPTURE_DIR": os.environ["BENCH_MAIL_CAPTURE_DIR"]})
