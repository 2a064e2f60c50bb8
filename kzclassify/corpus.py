"""Reading releases: the ``///`` corpus format and plain-text files."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ._text import display_text, fold_whitespace, release_id
from .readers import CorpusError, decode_document, read_document

SEPARATOR = "///"


@dataclass(frozen=True)
class Release:
    """One distinct release.

    ``text`` is the canonical display text (paragraphs on their own lines,
    spaces inside lines folded); annotation offsets refer to it. ``raw`` is the
    release as read from its file: its chunk (the text between ``///``
    separators, or the whole file) without the blank space around it; the CLI's
    offsets index it. Where it is in the file: ``chunk`` (0-based index of the
    chunk among all the file's chunks, empty and duplicate ones included),
    ``line`` (1-based line of its first character), ``char_offset`` (of its
    first character in the decoded file) and ``first_line``. ``index`` counts
    distinct releases of the file (0-based).
    """

    id: str
    text: str
    source: str = ""
    index: int = 0
    raw: str = ""
    chunk: int = 0
    line: int = 1
    char_offset: int = 0
    first_line: str = ""

    def location(self) -> dict:
        """Where the release is: the fields every output row carries."""
        return {"id": self.id, "source": self.source, "chunk": self.chunk, "line": self.line,
                "char_offset": self.char_offset, "first_line": self.first_line}

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "source": self.source, "index": self.index,
                "chunk": self.chunk, "line": self.line, "char_offset": self.char_offset,
                "first_line": self.first_line}


@dataclass(frozen=True)
class Duplicate:
    """A chunk whose text (whitespace folded) is an earlier chunk's: skipped, and reported."""

    id: str
    source: str
    chunk: int
    line: int
    first_chunk: int
    first_line_no: int
    first_line: str = ""


@dataclass
class Reading:
    """What one input gave: its distinct releases, the duplicate chunks skipped, notes for the user."""

    releases: list[Release]
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: str = "text"


def split_corpus(raw: str) -> list[str]:
    """Split ``///``-separated text into raw chunks (possibly empty)."""
    return raw.split(SEPARATOR)


def _first_line(text: str, limit: int = 200) -> str:
    line = display_text(text[: limit * 4]).partition("\n")[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def read_chunks(raw: str, source: str = "", corpus: bool = True) -> Reading:
    """Distinct releases of a decoded file's text, with their places in it (see releases_from_chunks)."""
    chunks = split_corpus(raw) if corpus else [raw]
    newlines = [i for i, c in enumerate(raw) if c == "\n"] if "\n" in raw else []
    seen: dict[str, Release] = {}
    out, dups = [], []
    at = 0
    for n, chunk in enumerate(chunks):
        begin, at = at, at + len(chunk) + len(SEPARATOR)
        stripped = chunk.strip()
        folded = fold_whitespace(stripped)
        if not folded:
            continue
        offset = begin + (len(chunk) - len(chunk.lstrip()))
        line = bisect.bisect_left(newlines, offset) + 1
        rid = release_id(folded)
        first = seen.get(rid)
        if first is not None:
            dups.append(Duplicate(rid, source, n, line, first.chunk, first.line, first.first_line))
            continue
        r = Release(id=rid, text=display_text(stripped), source=source, index=len(out), raw=stripped, chunk=n,
                    line=line, char_offset=offset, first_line=_first_line(stripped))
        seen[rid] = r
        out.append(r)
    return Reading(out, dups)


def releases_from_chunks(chunks: Iterable[str], source: str = "") -> list[Release]:
    """Make distinct releases from raw chunks.

    Chunks that are empty after whitespace folding are skipped; a chunk
    whose folded text was already seen is a duplicate and is skipped too,
    keeping the first occurrence. Order of first occurrence is kept.
    """
    return read_chunks(SEPARATOR.join(chunks), source).releases


def decode(data: bytes, name: str) -> str:
    """Decode text bytes (UTF-8, any BOM, UTF-16; see kzclassify.readers) or raise CorpusError naming the file."""
    return decode_document(data, name).text


def read_text_file(path: str | Path) -> str:
    """Read a file's text (UTF-8, BOMs, UTF-16, .docx, HTML: kzclassify.readers) with a clear CorpusError."""
    return read_document(path).text


def is_corpus_text(raw: str) -> bool:
    """True when the text uses the ``///`` release separator."""
    return SEPARATOR in raw


def read_corpus(path: str | Path) -> list[Release]:
    """Read a ``///`` corpus file into distinct releases (see releases_from_chunks)."""
    return read_chunks(read_text_file(path), str(path)).releases


def read_input(path: str | Path, fmt: str = "auto", encoding: str | None = None, data: bytes | None = None) -> Reading:
    """Read one input (a file, or ``data`` read elsewhere, e.g. stdin, named ``path``) into a Reading.

    ``fmt`` is ``"corpus"`` (``///``-separated), ``"text"`` (the whole file is
    one release) or ``"auto"`` (corpus if the text contains ``///``).
    """
    if fmt not in ("auto", "corpus", "text"):
        raise ValueError(f"unknown format {fmt!r}; expected auto, corpus or text")
    doc = decode_document(data, str(path), encoding) if data is not None else read_document(path, encoding)
    corpus = fmt == "corpus" or (fmt == "auto" and is_corpus_text(doc.text))
    reading = read_chunks(doc.text, str(path), corpus)
    reading.notes, reading.kind = doc.notes, doc.kind
    return reading


def read_releases(path: str | Path, fmt: str = "auto") -> list[Release]:
    """Read releases from ``path``.

    ``fmt`` is ``"corpus"`` (``///``-separated), ``"text"`` (the whole file is
    one release) or ``"auto"`` (corpus if the file contains ``///``).
    A plain text file that is empty gives an empty list.
    """
    return read_input(path, fmt).releases
