"""Corpus reader: identity, duplicates, display text, bad files."""
import pytest

from kzclassify._text import display_text, fold_whitespace, looks_kazakh, release_id
from kzclassify.corpus import CorpusError, read_corpus, read_releases

from conftest import CORPUS


def test_corpus_has_393_distinct_releases_with_stable_ids():
    rs = read_corpus(CORPUS)
    assert len(rs) == 393
    assert len({r.id for r in rs}) == 393
    assert rs[0].id == release_id(rs[0].text)
    assert all(len(r.id) == 12 for r in rs)


def test_duplicates_differing_in_whitespace_are_one_release(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("Бірінші  мәтін.\nЕкінші жол.///   Бірінші мәтін.\n\n  Екінші   жол.  ///Басқа мәтін.", encoding="utf-8")
    rs = read_corpus(p)
    assert [r.text for r in rs] == ["Бірінші мәтін.\nЕкінші жол.", "Басқа мәтін."]
    assert rs[0].id == release_id("Бірінші мәтін. Екінші жол.")


def test_empty_articles_are_skipped(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("///  \n ///Мәтін.///\n\n///", encoding="utf-8")
    assert [r.text for r in read_corpus(p)] == ["Мәтін."]


def test_display_text_keeps_paragraphs_and_folds_spaces():
    assert display_text("  А   б \r\n\n В\tг  ") == "А б\nВ г"
    assert fold_whitespace(" А \n б ") == "А б"


def test_invalid_utf8_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes("Мәтін".encode() + b"\xff\xfe///")
    with pytest.raises(CorpusError, match=r"bad.txt: invalid UTF-8 at byte 10"):
        read_corpus(p)


def test_binary_file_and_directory_and_missing_file(tmp_path):
    b = tmp_path / "x.bin"
    b.write_bytes(b"\x00\x01\x02abc")
    with pytest.raises(CorpusError, match="binary"):
        read_releases(b)
    with pytest.raises(CorpusError, match="directory"):
        read_releases(tmp_path)
    with pytest.raises(CorpusError, match="no such file"):
        read_releases(tmp_path / "missing.txt")


def test_plain_text_file_is_one_release(tmp_path):
    p = tmp_path / "one.txt"
    p.write_text("\ufeffМемлекет басшысы кездесті.\n\nЕкінші абзац.", encoding="utf-8")
    rs = read_releases(p)
    assert len(rs) == 1 and rs[0].text == "Мемлекет басшысы кездесті.\nЕкінші абзац."
    assert read_releases(p, "corpus")[0].text == rs[0].text
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    assert read_releases(empty) == []


@pytest.mark.parametrize("text,expected", [
    ("Мемлекет басшысы Жапония Премьер-министрімен кездесті.", True),
    ("Президент России провел встречу с премьер-министром Японии.", False),
    ("The President met the Prime Minister of Japan.", False),
    ("", False),
])
def test_looks_kazakh(text, expected):
    assert looks_kazakh(text) is expected
