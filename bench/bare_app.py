"""The benchmark's reference: a bare Flask app, one route with a short JSON body, served
under the same gunicorn settings as the real app (see bench/run.py)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return {"status": "ok"}
