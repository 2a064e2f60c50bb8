"""An annotator's task in a real browser: Playwright drives the distribution's Chromium against a real Label Studio.

Log in, open a pushed task, pick the type with its number key, draw a QUOTE and
a SPEAKER with the `q`/`s` hotkeys and mouse selections, link them (Alt+R),
try to submit without the canonical name (Label Studio refuses and selects the
speaker), type it, submit; then `pull` and `validate` the export.
Screenshots of the labeling screen go to docs/ (KZ_SCREENSHOTS=0 to skip).
No browser is downloaded: only /usr/bin/chromium (Debian's `chromium` package).
"""
import json
import os
import time
from pathlib import Path

import pytest

from lsserver import PASSWORD, TOKEN, USER

CHROMIUM = Path(os.environ.get("KZ_CHROMIUM", "/usr/bin/chromium"))
DOCS = Path(__file__).resolve().parent.parent / "docs"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]

TEXT = ("Мемлекет басшысы Жапония Премьер-министрімен кездесті.\n"
        "– Біз ынтымақтастықты дамытамыз, – деді Қасым-Жомарт Тоқаев.")
QUOTE = "Біз ынтымақтастықты дамытамыз"
MENTION = "Қасым-Жомарт Тоқаев"
CANONICAL = "Қасым-Жомарт Тоқаев"

# screen coordinates of the first and last character of `needle` in the task text (Label Studio renders
# the text as one span per line, split further into highlight spans where regions are)
_CHAR_BOXES = """([needle, part]) => {
  for (const line of document.querySelectorAll('.lsf-richtext__line')) {
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    const nodes = []; let acc = '';
    while (walker.nextNode()) { nodes.push([walker.currentNode, acc.length]); acc += walker.currentNode.data; }
    const i = acc.indexOf(needle);
    if (i < 0) continue;
    const at = (k) => { for (let j = nodes.length - 1; j >= 0; j--) if (nodes[j][1] <= k) return [nodes[j][0], k - nodes[j][1]]; };
    const box = (k) => { const [n, o] = at(k); const r = document.createRange(); r.setStart(n, o); r.setEnd(n, o + 1);
                         return r.getBoundingClientRect(); };
    const a = box(i), b = box(i + needle.length - 1), m = box(i + Math.floor(needle.length / 2));
    return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2,
            xm: m.left + m.width / 2, ym: m.top + m.height / 2};
  }
  return null;
}"""


def _boxes(page, needle):
    b = page.evaluate(_CHAR_BOXES, [needle, 0])
    assert b, f"{needle!r} is not on the labeling screen"
    return b


def _select_text(page, needle):
    """Select ``needle`` with the mouse, as a person does: press on its first character, drag to its last."""
    b = _boxes(page, needle)
    page.mouse.move(b["x1"], b["y1"])
    page.mouse.down()
    page.mouse.move(b["x2"], b["y2"], steps=12)
    page.mouse.up()
    time.sleep(0.5)


def _click_text(page, needle):
    b = _boxes(page, needle)
    page.mouse.click(b["xm"], b["ym"])
    time.sleep(0.5)


def _shot(page, name):
    if os.environ.get("KZ_SCREENSHOTS", "1") != "0":
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / name))


def annotate_in_browser(url: str, task_url: str, user: str = USER, password: str = PASSWORD) -> dict:
    """Do one task as an annotator; returns what the screen showed along the way."""
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "/user/login")
            page.fill("input[name=email]", user)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(task_url)
            page.wait_for_selector(".lsf-richtext__line", timeout=60_000)
            time.sleep(2)
            # the guide is shown before the first task
            modal = page.get_by_text("Labeling Instructions")
            seen["instructions"] = modal.count() > 0 and modal.first.is_visible()
            if seen["instructions"]:
                seen["instructions_text"] = page.locator(".ant-modal-body, [class*=modal]").first.inner_text()[:2000]
                _shot(page, "labeling_instructions.png")
                page.keyboard.press("Escape")
                time.sleep(1)
            page.keyboard.press("1")  # meeting
            page.keyboard.press("q")
            _select_text(page, QUOTE)
            page.keyboard.press("s")
            _select_text(page, MENTION)
            # link: select the quote, Alt+R, click the speaker
            _click_text(page, QUOTE[5:15])
            page.keyboard.press("Alt+r")
            time.sleep(0.3)
            _click_text(page, MENTION[:8])
            page.keyboard.press("Escape")  # nothing selected
            time.sleep(0.5)
            # submit without the canonical name: refused, the speaker is selected
            page.get_by_role("button", name="Submit").click()
            time.sleep(1.5)
            warning = page.get_by_text("needs its canonical name")
            seen["required_warning"] = warning.count() > 0
            _shot(page, "labeling_canonical_required.png")
            if seen["required_warning"]:
                page.get_by_role("button", name="OK").click()
                time.sleep(0.5)
            canonical = page.locator("textarea[name=canonical], input[name=canonical]")
            if not canonical.count() or not canonical.first.is_visible():
                _click_text(page, MENTION[:8])
            seen["canonical_visible"] = canonical.first.is_visible()
            canonical.first.fill(CANONICAL)
            canonical.first.press("Enter")
            time.sleep(0.5)
            _shot(page, "labeling_screen.png")
            seen["relations_panel"] = page.get_by_text("Relations").count() > 0
            page.get_by_role("button", name="Submit").click()
            time.sleep(3)
            _shot(page, "labeling_submitted.png")
        finally:
            browser.close()
    return seen


def test_annotator_draws_links_names_and_submits(server, tmp_path, monkeypatch):
    from labeling.cli import main
    from labeling.client import connect, push
    from labeling.tasks import make_tasks
    from labeling.validate import validate_export

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    corpus = tmp_path / "c.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    [task] = make_tasks([corpus], source="rules")
    task["predictions"] = []  # the annotator draws everything
    client = connect(server, TOKEN)
    r = push(client, [task], "kz browser")
    [t] = list(client.tasks.list(project=r["project"]))

    seen = annotate_in_browser(server, f"{server}/projects/{r['project']}/data?task={t.id}")
    assert seen["instructions"] and "Release type" in seen["instructions_text"]
    assert seen["required_warning"], "Label Studio let a SPEAKER without a canonical name be submitted"
    assert seen["canonical_visible"]

    out = tmp_path / "export.json"
    assert main(["pull", "--url", server, "--project", "kz browser", "-o", str(out)]) == 0
    export = json.loads(out.read_text(encoding="utf-8"))
    [ann] = export[0]["annotations"]
    assert ann["completed_by"]["email"] == USER
    rels = [x for x in ann["result"] if x["type"] == "relation"]
    assert len(rels) == 1 and not rels[0].get("labels")  # no label to pick: a relation means said_by
    rep = validate_export(export)
    assert rep.ok, rep.problems
    [release] = rep.releases.values()
    assert release.release_type == "meeting"
    [q] = release.quotes
    assert (q.text, q.mention, q.speaker) == (QUOTE, MENTION, CANONICAL)
    assert TEXT[q.start:q.end] == QUOTE and TEXT[q.mention_start:q.mention_end] == MENTION
