"""`expat report` rendered by a real browser: headless Chromium loads index.html and its DOM has the tables
and inline sequence charts. Skips (with the reason) only when chromium is not installed; CI installs it
(scripts/setup.sh)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import expat  # noqa: F401  (before anything imports OpenSSL)
from expat.perf.report import write_report

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.captions: list[str] = []
        self.counts: dict[str, int] = {}
        self.title = ""
        self._in: str = ""

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag in ("caption", "title"):
            self._in = tag
            if tag == "caption":
                self.captions.append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = ""

    def handle_data(self, data):
        if self._in == "caption":
            self.captions[-1] += data
        elif self._in == "title" and not self.title:
            self.title = data


def dump_dom(page: Path, profile_dir: Path) -> str:
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile_dir}", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=90)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode("utf-8")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh installs it)")
def test_chromium_loads_the_report_with_its_tables_and_charts(tmp_path):
    # The repository's own inputs (golden or synthetic traces, catalogue; the rest may be "not recorded").
    out = tmp_path / "report"
    write_report(out, REPO, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    charts = sorted(out.glob("msc-*.svg"))
    assert charts, "the repository has honest traces (golden or synthetic): charts expected"

    dom = Dom()
    dom.feed(dump_dom(out / "index.html", tmp_path / "chromium-profile"))
    assert dom.title == "expat report"
    assert any(c.startswith("Property × variant") for c in dom.captions)
    for caption in ("Inputs read for this report", "Properties", "Expected lemma verdicts per variant",
                    "Requirements covered, by revision", "Monitor results per trace"):
        assert caption in dom.captions
    assert dom.counts.get("table") == len(dom.captions)
    assert dom.counts.get("figure") == len(charts)
    assert dom.counts.get("svg") == len(charts)   # inline, parsed by the browser as SVG elements
    assert dom.counts.get("script", 0) == 0
