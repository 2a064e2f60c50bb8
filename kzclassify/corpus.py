"""Reading releases: the ``///`` corpus format and plain-text files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ._text import display_text, fold_whitespace, release_id

SEPARATOR = "///"


class CorpusError(ValueError):
    """A corpus file cannot be read (not UTF-8, binary, a directory, ...)."""


@dataclass(frozen=True)
class Release:
    """One distinct release.

    ``text`` is the canonical display text (paragraphs on their own lines,
    spaces inside lines folded); annotation offsets refer to it.
    """

    id: str
    text: str
    source: str = ""
    index: int = 0

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "source": self.source, "index": self.index}


def split_corpus(raw: str) -> list[str]:
    """Split ``///``-separated text into raw chunks (possibly empty)."""
    return raw.split(SEPARATOR)


def releases_from_chunks(chunks: Iterable[str], source: str = "") -> list[Release]:
    """Make distinct releases from raw chunks.

    Chunks that are empty after whitespace folding are skipped; a chunk
    whose folded text was already seen is a duplicate and is skipped too,
    keeping the first occurrence. Order of first occurrence is kept.
    """
    seen: set[str] = set()
    out: list[Release] = []
    for chunk in chunks:
        folded = fold_whitespace(chunk)
        if not folded:
            continue
        rid = release_id(folded)
        if rid in seen:
            continue
        seen.add(rid)
        out.append(Release(id=rid, text=display_text(chunk), source=source, index=len(out)))
    return out


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 bytes (BOM allowed) or raise CorpusError naming the file."""
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{name}: binary file (contains NUL bytes), expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            f"{name}: invalid UTF-8 at byte {exc.start} (line {line}); expected UTF-8 text"
        ) from None


def read_text_file(path: str | Path) -> str:
    """Read a file as UTF-8 text with a clear CorpusError on failure."""
    p = Path(path)
    if p.is_dir():
        raise CorpusError(f"{p}: is a directory, expected a text file")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{p}: no such file") from None
    except OSError as exc:
        raise CorpusError(f"{p}: cannot read ({exc.strerror})") from None
    return decode(data, str(p))


def is_corpus_text(raw: str) -> bool:
    """True when the text uses the ``///`` release separator."""
    return SEPARATOR in raw


def read_corpus(path: str | Path) -> list[Release]:
    """Read a ``///`` corpus file into distinct releases (see releases_from_chunks)."""
    return releases_from_chunks(split_corpus(read_text_file(path)), source=str(path))


def read_releases(path: str | Path, fmt: str = "auto") -> list[Release]:
    """Read releases from ``path``.

    ``fmt`` is ``"corpus"`` (``///``-separated), ``"text"`` (the whole file is
    one release) or ``"auto"`` (corpus if the file contains ``///``).
    A plain text file that is empty gives an empty list.
    """
    raw = read_text_file(path)
    if fmt == "auto":
        fmt = "corpus" if is_corpus_text(raw) else "text"
    if fmt == "corpus":
        return releases_from_chunks(split_corpus(raw), source=str(path))
    if fmt == "text":
        return releases_from_chunks([raw], source=str(path))
    raise ValueError(f"unknown format {fmt!r}; expected auto, corpus or text")


