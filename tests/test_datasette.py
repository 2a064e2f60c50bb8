"""An analyst browses the corpus in Datasette: a real `datasette` server over `kzclassify analyze --format sqlite`,
driven in the distribution's Chromium. Search a quote, facet by speaker, open a person's quotes.

Screenshots go to the test's temporary directory; docs/datasette_quotes.png was made with
`KZ_SCREENSHOTS_DIR=docs .venv/bin/python -m pytest tests/test_datasette.py`.
"""
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import CORPUS, ROOT
from lsserver import free_port

CHROMIUM = Path(os.environ.get("KZ_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DATASETTE = Path(sys.executable).with_name("datasette")

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
    pytest.mark.skipif(not DATASETTE.exists(), reason="datasette is not installed (pip install -e '.[browse]')"),
]

WORD = "ынтымақтастықты"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    d = tmp_path_factory.mktemp("ds")
    db = d / "akorda.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "kzclassify", "analyze", str(CORPUS.relative_to(ROOT)), "-q",
                        "--format", "sqlite", "--output", str(db)], capture_output=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    port = free_port()
    proc = subprocess.Popen([str(DATASETTE), "serve", str(db), "-m", str(d / "akorda.metadata.json"),
                             "-p", str(port), "--setting", "sql_time_limit_ms", "5000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/-/versions.json", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"datasette exited: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("datasette did not answer in 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_search_a_quote_and_facet_by_speaker(site, tmp_path):
    from playwright.sync_api import sync_playwright
    shots = Path(os.environ.get("KZ_SCREENSHOTS_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{site}/akorda")
            body = page.inner_text("body")
            # the labels of the metadata file, in Kazakh and English
            assert "Ақорда хабарламалары" in body and "Releases, quotes and people" in body and "дәйексөздер" in body
            page.goto(f"{site}/akorda/quotes")
            assert page.locator("h1").inner_text().startswith("Дәйексөздер / Quotes")
            page.fill("input[name=_search]", WORD)
            page.locator("input[name=_search]").press("Enter")
            page.wait_for_load_state("networkidle")
            found = page.locator("table.rows-and-columns tbody tr")
            n_found = found.count()
            assert n_found > 0
            assert all(WORD in found.nth(i).inner_text().lower() for i in range(min(n_found, 10)))
            # the speaker facet (set by the metadata): pick the first speaker
            facet = page.locator(".facet-info[data-column=speaker] li a").first
            speaker = facet.inner_text().strip()  # <li><a>value</a> count</li>
            facet.click()
            page.wait_for_load_state("networkidle")
            assert f"speaker={quote(speaker)}" in page.url or "speaker=" in page.url
            rows = page.locator("table.rows-and-columns tbody tr")
            assert 0 < rows.count() <= n_found
            cells = page.locator("table.rows-and-columns tbody td.col-speaker")
            assert {cells.nth(i).inner_text() for i in range(cells.count())} == {speaker}
            assert f"_search={quote(WORD)}" in page.url or "_search=" in page.url
            page.screenshot(path=str(shots / "datasette_quotes.png"), full_page=False)
            # releases faceted by type and president era
            page.goto(f"{site}/akorda/releases")
            text = page.inner_text("body")
            assert "release_type_label" in text and "president_era" in text and "Нұрсұлтан Назарбаев" in text
        finally:
            browser.close()
    assert (shots / "datasette_quotes.png").stat().st_size > 10_000
    shutil.rmtree(tmp_path / "shots", ignore_errors=True)
