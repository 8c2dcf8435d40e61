"""Lighthouse (npm `lighthouse`, pinned in package.json) on the home page, /book and a
booking form, as a phone, against the app under gunicorn on loopback.

Judged on what the page controls, which no load on the machine can move: accessibility,
best practices and SEO score 100 (every weighted audit passes), and the page's own figures
stay in budget: bytes, elements, render-blocking resources (the one stylesheet) and layout
shift. The performance score itself is a timing, so it is taken on a quiet machine by
`bench/lighthouse.py`, not here. Lighthouse treats http://127.0.0.1 as a secure origin, so
its HTTPS audit passes here too; should a version stop doing so, that audit alone may be
added to LOOPBACK_ONLY_FAILURES (production sits behind TLS)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import CHROMIUM, ROOT, LiveServer, build_app, dispose, make_slot

pytestmark = pytest.mark.browser
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
JUDGED = ("accessibility", "best-practices", "seo")
# Audits that could fail on http://127.0.0.1 for reasons outside the page (none today).
LOOPBACK_ONLY_FAILURES: set[str] = set()
# The page's own budget (the pages weigh 30-45 KB with about 200 elements today).
MAX_BYTES = 64 * 1024
MAX_ELEMENTS = 800
MAX_LAYOUT_SHIFT = 0.1  # "good" in Web Vitals


def lighthouse_missing() -> str | None:
    if not shutil.which("npx") or not LIGHTHOUSE.exists():
        return f"lighthouse not installed: run `npm install` in {ROOT} (make install-dev does)"
    if not os.path.exists(CHROMIUM):
        return f"chromium not installed at {CHROMIUM}"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    reason = lighthouse_missing()
    if reason:
        pytest.skip(reason)
    url = f"sqlite:///{tmp_path_factory.mktemp('lighthouse') / 'site.db'}"
    app = build_app(url)
    with app.app_context():
        slots = [make_slot().public_id for _ in range(8)]
    live = LiveServer(url).start()
    yield live, slots
    live.stop()
    dispose(app)


def run_lighthouse(url: str, out_dir) -> dict:
    report = out_dir / "report.json"
    result = subprocess.run(
        [
            "npx",
            "--no-install",
            "lighthouse",
            url,
            "--form-factor=mobile",
            "--screenEmulation.mobile",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
            "--chrome-flags=--headless --no-sandbox --disable-gpu",
        ],
        cwd=ROOT,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(report.read_text())


def page_figures(report: dict) -> dict:
    """What the page itself decides: its weight, its elements, what blocks its first render
    and how far it shifts as it loads."""
    audits = report["audits"]
    blocking = audits["render-blocking-insight"].get("details", {}).get("items", [])
    return {
        "bytes": audits["total-byte-weight"]["numericValue"],
        "elements": audits["dom-size-insight"]["numericValue"],
        "render-blocking": [item["url"].split("?")[0].rsplit("/", 1)[-1] for item in blocking],
        "layout shift": audits["cumulative-layout-shift"]["numericValue"],
    }


@pytest.mark.parametrize("page", ["/", "/book", "form"])
def test_lighthouse_judges_what_the_page_controls(server, page, tmp_path):
    live, slots = server
    path = f"/book/{slots[0]}" if page == "form" else page
    report = run_lighthouse(live.url + path, tmp_path)
    scores = {name: report["categories"][name]["score"] for name in CATEGORIES}
    figures = page_figures(report)
    print(f"\nLighthouse {path}: {scores} {figures}")
    failing = {
        key: audit["title"]
        for key, audit in report["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric")
        and any(
            ref["id"] == key and ref.get("weight", 0) > 0
            for name in JUDGED
            for ref in report["categories"][name]["auditRefs"]
        )
    }
    assert set(failing) <= LOOPBACK_ONLY_FAILURES, failing
    assert {name: scores[name] for name in JUDGED} == dict.fromkeys(JUDGED, 1.0), scores
    assert figures["bytes"] <= MAX_BYTES, figures
    assert figures["elements"] <= MAX_ELEMENTS, figures
    assert figures["render-blocking"] in ([], ["site.css"]), figures  # no blocking script or font
    assert figures["layout shift"] <= MAX_LAYOUT_SHIFT, figures
