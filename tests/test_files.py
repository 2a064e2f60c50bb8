"""The files people really have, through the CLI: encodings, .docx, saved HTML, folders, duplicates, pipes."""
import json
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

TEXT = ("Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті.\n"
        "– Ынтымақтастықты  дамытамыз, – деді Қасым-Жомарт Тоқаев.")
QUOTE = "Ынтымақтастықты  дамытамыз"  # two spaces inside: offsets must index the file's text, not a folded one
SPEAKER = "Қасым-Жомарт Тоқаев"


def run(*args, stdin=None, shell=None):
    import os
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if shell:
        return subprocess.run(shell, shell=True, capture_output=True, env=env, cwd="/")
    return subprocess.run([sys.executable, "-m", "kzclassify", *args], input=stdin, capture_output=True,
                          env=env, cwd="/")


def records(r):
    assert b"Traceback" not in r.stderr, r.stderr.decode()
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def _check_quote(rec, text):
    q = rec["quotes"][0]
    assert text[q["start"]:q["end"]] == q["text"] == QUOTE and q["speaker"] == SPEAKER


def test_utf16_notepad_unicode_file(tmp_path):
    p = tmp_path / "notepad.txt"
    p.write_bytes(TEXT.replace("\n", "\r\n").encode("utf-16"))  # BOM + UTF-16 LE, CRLF: Notepad's "Unicode"
    r = run("quotes", str(p), "--with-text")
    [rec] = records(r)
    assert r.returncode == 0 and "UTF-16" in r.stderr.decode()
    _check_quote(rec, rec["text"])
    assert rec["text"] == TEXT.replace("\n", "\r\n")  # the text as read: CRLF kept, offsets index it


@pytest.mark.parametrize("codec", ["cp1251", "kz1048"])
def test_windows_code_pages_need_and_take_encoding(tmp_path, codec):
    text = TEXT if codec == "kz1048" else "Президент России провел встречу с Премьер-министром Японии."
    p = tmp_path / f"{codec}.txt"
    p.write_bytes(text.encode(codec))
    r = run("analyze", str(p))
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert "invalid UTF-8 at byte" in err and "--encoding cp1251 or --encoding kz1048" in err and "Traceback" not in err
    r = run("analyze", str(p), "--encoding", codec, "--with-text")
    [rec] = records(r)
    assert r.returncode == 0 and rec["text"] == text
    if codec == "kz1048":
        _check_quote(rec, rec["text"])
    for bad in ("no-such-codec", "base64"):  # base64 is a Python codec, but not a text encoding
        r = run("analyze", str(p), "--encoding", bad)
        assert r.returncode == 2 and b"unknown text encoding" in r.stderr and b"Traceback" not in r.stderr


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx(path, paragraphs, extra=""):
    """A .docx as Word writes one: package parts, styles, settings, document properties; every paragraph
    split into runs with properties, a spell-check mark and a bookmark between them."""
    body = "".join('<w:p w:rsidR="00A1" w:rsidRDefault="00A1"><w:pPr><w:pStyle w:val="Normal"/><w:jc w:val="both"/>'
                   '</w:pPr><w:bookmarkStart w:id="0" w:name="_GoBack"/>' + '<w:proofErr w:type="spellStart"/>'.join(
                       f'<w:r w:rsidRPr="00B2"><w:rPr><w:rFonts w:ascii="Times New Roman"/><w:sz w:val="28"/></w:rPr>'
                       f'<w:t xml:space="preserve">{r}</w:t></w:r>' for r in p) + '<w:bookmarkEnd w:id="0"/></w:p>'
                   for p in paragraphs)
    doc = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<w:document xmlns:w="{W}" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" mc:Ignorable="w14" '
           'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
           'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml">'
           f'<w:body>{body}{extra}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>')
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                   'xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{rels}/officeDocument" '
                   'Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
                   'package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>')
        z.writestr("docProps/core.xml", '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.'
                   'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/'
                   '1.1/"><dc:title>Ақорда</dc:title><dc:creator>Баспасөз қызметі</dc:creator></cp:coreProperties>')
        z.writestr("word/_rels/document.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rels}/styles" '
                   'Target="styles.xml"/></Relationships>')
        z.writestr("word/styles.xml", f'<?xml version="1.0"?><w:styles xmlns:w="{W}"><w:style w:type="paragraph" '
                   'w:styleId="Normal"><w:name w:val="Normal"/></w:style></w:styles>')
        z.writestr("word/document.xml", doc)


def test_docx_and_docx_renamed_txt(tmp_path):
    lead, quote_line = TEXT.split("\n")
    # Word splits a paragraph into runs wherever the formatting changes
    paragraphs = [[lead[:20], lead[20:]], ["– ", QUOTE, ", – деді ", SPEAKER, "."]]
    # what else Word writes into a body: a tracked deletion, a page-number field, a hyperlink, a table
    extra = ('<w:p><w:r><w:t>Ақорда</w:t></w:r><w:del w:id="1" w:author="a"><w:r><w:delText>өшірілген</w:delText>'
             '</w:r></w:del><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:tab/></w:r><w:hyperlink r:id="rId9"><w:r>'
             '<w:t>akorda.kz</w:t></w:r></w:hyperlink></w:p>'
             '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Күні</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>2023</w:t></w:r>'
             '<w:r><w:noBreakHyphen/><w:t>05</w:t></w:r></w:p></w:tc></w:tr></w:tbl>')
    for name in ("release.docx", "release.txt"):
        p = tmp_path / name
        _docx(p, paragraphs, extra)
        r = run("quotes", str(p), "--with-text")
        [rec] = records(r)
        assert r.returncode == 0 and rec["text"] == TEXT + "\nАқорда\takorda.kz\nКүні\n2023-05"
        _check_quote(rec, rec["text"])
    z = tmp_path / "archive.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("a.txt", "x")
    r = run("analyze", str(z))
    assert r.returncode == 2 and b"not a .docx" in r.stderr and b"Traceback" not in r.stderr


AKORDA_PAGE = """<!DOCTYPE html>
<html lang="kk"><head><meta charset="utf-8"><title>Мемлекет басшысы Жапония Премьер-министрімен сөйлесті — Ақорда</title>
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>
<style>.menu { display: flex; }</style></head>
<body>
<header class="header"><div class="header__logo"><a href="/kz">Қазақстан Республикасы Президентінің ресми сайты</a></div>
<nav class="main-menu"><ul><li><a href="/kz/president">Президент</a></li><li><a href="/kz/news">Жаңалықтар</a></li></ul></nav>
<div class="lang-switcher"><a href="/ru">Русский</a> <a href="/en">English</a> <a href="/kz">Қазақша</a></div></header>
<main><div class="breadcrumbs"><a href="/kz">Басты бет</a> / <a href="/kz/news">Жаңалықтар</a></div>
<article class="article"><h1>Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті</h1>
<div class="article__date"><time datetime="2023-05-12">12 мамыр 2023</time></div>
<div class="article__body">
<p>Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті.</p>
<p>– Ынтымақтастықты  дамытамыз, – деді Қасым-Жомарт Тоқаев.</p>
</div>
<div class="share"><a href="https://facebook.com/sharer">Бөлісу</a></div>
</article></main>
<footer class="footer"><p>© 2023 Ақорда. Барлық құқықтар қорғалған.</p></footer>
<script>console.log("Сөйлесті, – деді Мемлекет басшысы.");</script>
</body></html>
"""


def test_saved_html_page_is_reduced_to_its_article_with_a_warning(tmp_path):
    p = tmp_path / "akorda.html"
    p.write_text(AKORDA_PAGE, encoding="utf-8")
    r = run("analyze", str(p), "--with-text")
    [rec] = records(r)
    assert r.returncode == 0 and "warning:" in r.stderr.decode() and "HTML page" in r.stderr.decode()
    text = rec["text"]
    # the article's paragraphs (spaces collapsed, as a browser shows them): no headline, date, menu, share, footer
    assert text == TEXT.replace("  ", " ")
    for junk in ("Русский", "Жаңалықтар", "<p>", "gtag", "Барлық құқықтар", "Бөлісу", "console"):
        assert junk not in text
    assert [q["speaker"] for q in rec["quotes"]] == [SPEAKER]
    assert "<" not in rec["quotes"][0]["text"] and all("Русский" not in p["name"] for p in rec["people"])
    # the same page saved in Windows-1251 with its charset declared, under a .txt name
    cp = tmp_path / "page.txt"
    cp.write_bytes(AKORDA_PAGE.replace("Қ", "К").replace("қ", "к").replace("ә", "а").replace("ғ", "г").replace(
        "ң", "н").replace("ө", "о").replace("ұ", "у").replace("ү", "у").replace("і", "и").replace("һ", "х")
        .replace('charset="utf-8"', 'charset="windows-1251"').encode("cp1251"))
    r = run("classify", str(cp))
    [rec] = records(r)
    assert r.returncode == 0 and "read as cp1251 (the page's charset)" in r.stderr.decode()
    assert rec["first_line"] == "Мемлекет басшысы Жапония Премьер-министримен телефон аркылы сойлести."


def test_broken_html_is_read_not_a_traceback(tmp_path):
    """html.parser asserts on some "<!" declarations (a page cut short, a stray "<![")."""
    p = tmp_path / "cut.html"
    p.write_text("<html><body><article><p>" + TEXT.replace("\n", "</p><p>") + " <![ кесілген", encoding="utf-8")
    r = run("quotes", str(p))
    [rec] = records(r)
    assert r.returncode == 0 and [q["speaker"] for q in rec["quotes"]] == [SPEAKER]


def test_folder_is_read_recursively_in_name_order(tmp_path):
    d = tmp_path / "archive"
    (d / "2023").mkdir(parents=True)
    (d / "b.txt").write_text(TEXT, encoding="utf-8")
    (d / "2023" / "a.html").write_text(AKORDA_PAGE.replace("Жапония", "Қытай"), encoding="utf-8")
    _docx(d / "c.docx", [["Мемлекет басшысы Германия Канцлерімен кездесті."]])
    (d / "notes.pdf").write_bytes(b"%PDF-1.4")
    (d / ".hidden.txt").write_text("Жасырын.", encoding="utf-8")
    r = run("classify", str(d))
    recs = records(r)
    assert r.returncode == 0
    assert [rec["source"].removeprefix(str(d)) for rec in recs] == ["/2023/a.html", "/b.txt", "/c.docx"]
    err = r.stderr.decode()
    assert "a folder; reading its 3" in err and "1 other file skipped" in err


def test_duplicated_corpus_is_reported_and_located(tmp_path):
    releases = [TEXT, "Мемлекет басшысы Германия Канцлерімен кездесті.", "Президент жарлыққа қол қойды."]
    chunks = releases + [releases[0].replace(" ", "  "), releases[2]]  # each of two repeated, whitespace aside
    p = tmp_path / "corpus.txt"
    p.write_text("\n///\n".join(chunks), encoding="utf-8")
    r = run("classify", str(p))
    recs = records(r)
    assert r.returncode == 0 and len(recs) == 3
    assert [(x["chunk"], x["line"], x["first_line"]) for x in recs] == [
        (0, 1, releases[0].split("\n")[0]), (1, 4, releases[1]), (2, 6, releases[2])]
    err = r.stderr.decode()
    assert "2 duplicate releases skipped (3 distinct kept): chunk 3 (line 8) = chunk 0 (line 1), " \
           "chunk 4 (line 11) = chunk 2 (line 6)" in err
    raw = p.read_text(encoding="utf-8")
    r = run("quotes", str(p))
    q = records(r)[0]["quotes"][0]
    assert raw[recs[0]["char_offset"] + q["start"]:recs[0]["char_offset"] + q["end"]] == QUOTE


def test_closed_pipe_ends_quietly():
    """`kzclassify ... | head -n 1`: the reader takes one line and closes the pipe."""
    import os
    corpus = ROOT / "data" / "akorda_kk.txt"
    proc = subprocess.Popen([sys.executable, "-m", "kzclassify", "classify", str(corpus), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    first = proc.stdout.readline()
    proc.stdout.close()  # what head does after its line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, err
    assert json.loads(first)["chunk"] == 0
    assert b"Broken pipe" not in err and b"Traceback" not in err and b"error" not in err
    assert err.count(b"\n") == 1 and b"390 duplicate releases skipped" in err


def test_russian_release_gets_no_kazakh_attribution():
    ru = ("Президент Казахстана Нурсултан Назарбаев провел встречу с министром.\n"
          "– Это важно для страны, – отметил Президент.")
    r = run("analyze", stdin=ru.encode())
    [rec] = records(r)
    assert r.returncode == 0 and rec["release_type"]["label"] == "other"
    assert rec["quotes"] == [] and rec["people"] == []
    assert len(rec["warnings"]) == 1 and "no quotes or people were extracted" in rec["warnings"][0]
    [q] = records(run("quotes", stdin=ru.encode()))
    assert q["quotes"] == [] and "does not look like Kazakh" in q["warnings"][0]
