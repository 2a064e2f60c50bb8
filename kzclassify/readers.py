"""The files people really have → text: encodings, byte-order marks, ``.docx``, saved HTML pages, folders.

One module knows these formats (standard library only: ``codecs``, ``zipfile``, ``xml.etree``,
``html.parser``). :func:`decode_document` turns a file's bytes into the text kzclassify reads and
says what it did; the text it returns is "the text as read": CLI offsets index it.

* Encodings: a byte-order mark decides (UTF-8, UTF-16 LE/BE as Windows Notepad's "Unicode" writes,
  UTF-32); without one, UTF-16 is recognised by its zero bytes; otherwise UTF-8, or the ``encoding``
  the caller names (``cp1251``, ``kz1048``, any Python codec). Invalid UTF-8 is an error that names
  the byte, the line and the ``--encoding`` to try.
* ``.docx`` (whatever the file is called: the zip signature decides): the paragraphs of
  ``word/document.xml``, one per line. Other zip files, PDFs and Word 97 ``.doc`` files are refused
  by name.
* HTML (a page saved from the web): the text of its ``<article>``/``<main>`` (else ``<body>``),
  without ``nav``/``header``/``footer``/menus/scripts/styles/forms, block elements as lines, with a
  warning to check the result.
"""
from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

# the suffixes a folder is searched for (recursively); any single file is read whatever its name
FOLDER_SUFFIXES = (".txt", ".docx", ".html", ".htm")
ENCODING_HINT = "pass its encoding, e.g. --encoding cp1251 or --encoding kz1048 (Windows Cyrillic / Kazakh)"

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with a byte-order mark"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 (Windows \"Unicode\")"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 big-endian"),
)


class CorpusError(ValueError):
    """A file cannot be read (unknown encoding, binary, a directory, ...); the message names the file."""


@dataclass
class Document:
    """A file's text as read. ``kind``: ``text``, ``docx`` or ``html``; ``encoding``: the codec used
    (``None`` for docx); ``notes``: warnings for the person running the command."""

    text: str
    kind: str = "text"
    encoding: str | None = "utf-8"
    notes: list[str] = field(default_factory=list)


def read_document(path: str | Path, encoding: str | None = None) -> Document:
    """Read one file (see the module docstring); CorpusError with the file's name on failure."""
    p = Path(path)
    if p.is_dir():
        raise CorpusError(f"{p}: is a directory (give it as an input to read the {', '.join(FOLDER_SUFFIXES)} "
                          "files inside)")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{p}: no such file") from None
    except OSError as exc:
        raise CorpusError(f"{p}: cannot read ({exc.strerror})") from None
    return decode_document(data, str(p), encoding)


def decode_document(data: bytes, name: str, encoding: str | None = None) -> Document:
    """The text of a file's bytes: docx, HTML or plain text in any encoding (module docstring)."""
    if data[:4] == b"PK\x03\x04":
        return _docx(data, name)
    if data[:5] == b"%PDF-":
        raise CorpusError(f"{name}: a PDF file; save it as text (or .docx) first")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise CorpusError(f"{name}: a Word 97-2003 .doc (or another OLE) file; save it as .docx or text first")
    text, used, how = _decode(data, name, encoding)
    notes = [f"{name}: read as {how}"] if how else []
    if looks_like_html(text):
        body, where = html_text(text)
        notes.append(f"{name}: an HTML page; read the text of its {where} (menus, scripts, styles, the headline "
                     "and date dropped) — check the result, or save the page as text")
        return Document(body, "html", used, notes)
    return Document(text, "text", used, notes)


def _decode(data: bytes, name: str, encoding: str | None) -> tuple[str, str, str]:
    """(text, codec, what to tell the user or "") for plain-text bytes."""
    if encoding:
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            info = None
        if info is None or not getattr(info, "_is_text_encoding", True):  # base64, rot13, hex: not text
            raise CorpusError(f"unknown text encoding {encoding!r} (e.g. utf-8, utf-16, cp1251, kz1048)")
        codec = info.name
        if codec == "utf-8":
            codec = "utf-8-sig"  # a byte-order mark is never text ("utf-16"/"utf-32" skip theirs too)
        return _strict(data, codec, name, f"--encoding {encoding}"), codec, ""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom):], codec, name, label), codec, "" if codec == "utf-8" else label
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _strict(data, utf16, name, utf16), utf16, f"{utf16.upper()} (no byte-order mark; by its zero bytes)"
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{name}: binary file (contains NUL bytes), expected text, a .docx or an HTML page")
    try:
        return data.decode("utf-8"), "utf-8", ""
    except UnicodeDecodeError as exc:
        meta = _html_charset(data)
        if meta:
            return _strict(data, meta, name, f"the page's charset {meta}"), meta, f"{meta} (the page's charset)"
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(f"{name}: invalid UTF-8 at byte {exc.start} (line {line}); if the file is not UTF-8, "
                          f"{ENCODING_HINT}") from None


def _strict(data: bytes, codec: str, name: str, label: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{name}: not valid {label.removeprefix('--encoding ')} at byte {exc.start} ({exc.reason})"
                          + ("" if "--encoding" in label else f"; {ENCODING_HINT}")) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when most odd/even bytes of the start are zero (UTF-16 without a BOM)."""
    head = data[:4096]
    if len(head) < 4 or len(head) % 2:
        head = head[:len(head) - len(head) % 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    n = len(even)
    codec = ("utf-16-le" if odd.count(0) > 0.3 * n and even.count(0) < 0.05 * n else
             "utf-16-be" if even.count(0) > 0.3 * n and odd.count(0) < 0.05 * n else None)
    if codec is None or n < 8:
        return None
    sample = head.decode(codec, errors="replace")  # text, not binary that happens to have zeros
    return codec if not _CONTROL.search(sample) else None


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffd]")


_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.I)


def _html_charset(data: bytes) -> str | None:
    m = _CHARSET.search(data[:4096])
    if not m:
        return None
    try:
        return codecs.lookup(m.group(1).decode("ascii")).name
    except LookupError:
        return None


# ---------------------------------------------------------------- .docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx(data: bytes, name: str) -> Document:
    try:
        with zipfile.ZipFile(BytesIO(data)) as z:
            if "word/document.xml" not in z.namelist():
                raise CorpusError(f"{name}: a zip archive but not a .docx (no word/document.xml); "
                                  "unpack it and give the text files")
            info = z.getinfo("word/document.xml")
            if info.file_size > 200_000_000:
                raise CorpusError(f"{name}: word/document.xml is {info.file_size:,} bytes uncompressed; refused")
            xml = z.read("word/document.xml")
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise CorpusError(f"{name}: a damaged zip/.docx file ({exc})") from None
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise CorpusError(f"{name}: word/document.xml is not valid XML ({exc})") from None
    body = root.find(f"{_W}body")
    paragraphs = [_paragraph_text(p) for p in (body if body is not None else root).iter(f"{_W}p")]
    return Document("\n".join(paragraphs), "docx", None, [])


# what a run's children are as text: w:t (text), tabs and breaks; w:delText (tracked deletions),
# w:instrText (field codes) and everything else are no text
_RUN_TEXT = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-", f"{_W}softHyphen": ""}


def _paragraph_text(p) -> str:
    """A paragraph's text; a paragraph nested in it (a text box) is its own paragraph, not repeated here."""
    parts = []

    def walk(el):
        for child in el:
            if child.tag == f"{_W}p" or child.tag == f"{_W}del":
                continue  # a nested paragraph is read on its own; a tracked deletion is not the text
            if child.tag == f"{_W}t":
                parts.append(child.text or "")
            elif child.tag in _RUN_TEXT:
                parts.append(_RUN_TEXT[child.tag])
            else:
                walk(child)
    walk(p)
    return "".join(parts)


# ---------------------------------------------------------------- HTML

_HTML_START = re.compile(r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
_TAGS = re.compile(r"</?(?:p|div|br|span|a|meta|script|li|h[1-6])\b[^>]*>", re.I)


def looks_like_html(text: str) -> bool:
    """An HTML document (starts like one), or text thick with HTML tags (a fragment saved as .txt)."""
    head = text[:20_000]
    return bool(_HTML_START.match(head)) or len(_TAGS.findall(head)) >= 5


# not the release: page furniture, and the headline and date the page puts above it (the title is the
# page's <title> too; the text of a release starts with its lead, as in the corpus)
_DROP = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "button", "select",
         "template", "svg", "iframe", "menu", "head", "title", "h1", "time"}
_DROP_CLASS = re.compile(r"\b(?:nav|navbar|menu|breadcrumbs?|sidebar|footer|header|share|social|lang|language|"
                         r"cookie|banner|related|tags|pagination)\b", re.I)
_BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
          "article", "main", "blockquote", "figure", "figcaption", "dd", "dt", "pre", "hr", "body", "time"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "source", "area", "base", "col", "embed", "wbr", "track"}


class _Text(HTMLParser):
    """Text of an HTML page in three bins: inside <article>, inside <main>, the whole <body>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, dropped here)
        self.dropped = 0
        self.bins = {"article": [], "main": [], "body": []}
        self.inside = {"article": 0, "main": 0}

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            if tag in ("br", "hr"):
                self._put("\n")
            return
        a = dict(attrs)
        drop = tag in _DROP or bool(_DROP_CLASS.search(f"{a.get('class') or ''} {a.get('id') or ''} "
                                                       f"{a.get('role') or ''}".replace("-", " ")
                                                       .replace("_", " ")))
        if tag in ("article", "main") and not self.dropped:
            drop = False
            self.inside[tag] += 1
        self.stack.append((tag, drop))
        self.dropped += drop
        if tag in _BLOCK:
            self._put("\n")

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        for i in range(len(self.stack) - 1, -1, -1):  # close up to the matching tag (forgiving, like browsers)
            if self.stack[i][0] == tag:
                for t, drop in self.stack[i:]:
                    self.dropped -= drop
                    if t in self.inside and self.inside[t]:
                        self.inside[t] -= 1
                del self.stack[i:]
                break
        if tag in _BLOCK:
            self._put("\n")

    def handle_data(self, data):
        self._put(data)

    def _put(self, s):
        if self.dropped:
            return
        self.bins["body"].append(s)
        for k in ("article", "main"):
            if self.inside[k]:
                self.bins[k].append(s)


_BAD_DECL = re.compile(r"<!(?!--|doctype\b)", re.I)


def _parse(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser


def html_text(html: str) -> tuple[str, str]:
    """(the page's main text, one paragraph per line; where it came from: "<article>", "<main>" or "<body>")."""
    try:
        parser = _parse(html)
    except AssertionError:  # html.parser's markup-declaration checks ("<![ junk"): read such a "<!" as text
        parser = _parse(_BAD_DECL.sub("&lt;!", html))
    for key in ("article", "main", "body"):
        lines = [" ".join(line.split()) for line in "".join(parser.bins[key]).split("\n")]
        text = "\n".join(line for line in lines if line)
        if text or key == "body":
            return text, f"<{key}>"
    return "", "<body>"


# ---------------------------------------------------------------- folders

def expand_inputs(paths: list[str]) -> tuple[list[str], list[str]]:
    """The files to read: each file as given, each folder's ``FOLDER_SUFFIXES`` files (recursively,
    sorted, hidden ones skipped); and a note per folder saying what was taken."""
    out: list[str] = []
    notes: list[str] = []
    for path in paths:
        p = Path(path)
        if path == "-" or not p.is_dir():
            out.append(path)
            continue
        files, other = [], 0
        try:
            found = sorted(p.rglob("*"))
        except OSError as exc:
            raise CorpusError(f"{p}: cannot list the folder ({exc.strerror or exc})") from None
        for f in found:
            rel = f.relative_to(p).parts
            if any(part.startswith(".") for part in rel) or not f.is_file():
                continue
            if f.suffix.lower() in FOLDER_SUFFIXES:
                files.append(str(f))
            else:
                other += 1
        skipped = f", {other} other file{'s' * (other != 1)} skipped" if other else ""
        notes.append(f"{p}: a folder; reading its {len(files)} {'/'.join(s[1:] for s in FOLDER_SUFFIXES)} "
                     f"file{'s' * (len(files) != 1)} in name order{skipped}")
        out.extend(files)
    return out, notes
