"""Normalisation at the entrance: line breaks, spaces, blank lines, surrogates (issue 11, "Text the model never saw")."""
import pytest

from kzclassify import analyze, extract_quotes
from kzclassify._normalize import SURROGATE_WARNING, clean_surrogates, normalize
from kzclassify._text import display_text, fold_whitespace


@pytest.mark.parametrize("raw, norm", [
    ("", ""),
    (" \r\n\u2028 ", ""),
    ("бір екі", "бір екі"),
    ("бір\r\nекі", "бір\nекі"),
    ("бір\rекі", "бір\nекі"),
    ("бір\u2028екі\u2029үш\x85төрт\vбес\fалты", "бір\nекі\nүш\nтөрт\nбес\nалты"),
    ("бір  \nекі  ", "бір\nекі"),
    ("бір\n\n\nекі", "бір\nекі"),
    ("бір\n  \t \n екі", "бір\nекі"),
    ("бір\u00a0\u202f\u2009екі\tүш", "бір екі үш"),
    ("\ufeff– Біз бірге боламыз.", "– Біз бірге боламыз."),
])
def test_normalize(raw, norm):
    n = normalize(raw)
    assert n.text == norm
    assert len(n.source_index) == len(norm)
    for i, ch in enumerate(norm):  # every character comes from the caller's text
        src = raw[n.source_index[i]]
        assert src == ch or (ch in " \n" and (src.isspace() or src == "\ufeff"))


def test_display_text_is_already_normal(corpus_texts):
    assert all(normalize(t).text == t for t in corpus_texts)


def test_same_shape_as_the_corpus_loader():
    from tests.conftest import CORPUS
    chunks = CORPUS.read_text(encoding="utf-8").split("///")
    assert all(normalize(c).text == display_text(c) for c in chunks)


def test_to_caller_spans_skip_the_callers_extra_space():
    raw = "  бір  \r\n\r\n  екі үш  "
    n = normalize(raw)
    s, e = n.to_caller(n.text.index("бір"), n.text.index("үш") + 2)
    assert raw[s:e] == "бір  \r\n\r\n  екі үш"
    assert n.to_caller(len(n.text), len(n.text)) == (len(raw), len(raw))


VARIANTS = {
    "cr": lambda t: t.replace("\n", "\r"),
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "u2028": lambda t: t.replace("\n", "\u2028"),
    "two_trailing_spaces": lambda t: t.replace("\n", "  \n") + "  ",
    "blank_lines": lambda t: t.replace("\n", "\n\n"),
    "nbsp": lambda t: t.replace(" ", "\u00a0"),
    "mixed": lambda t: "\ufeff  " + t.replace("\n", " \t\r\n\u2029\r\n ").replace(", ", ",\u00a0 ") + "\r\n",
}


def _key(quotes):
    return [(fold_whitespace(q.text), q.speaker, fold_whitespace(q.speaker_mention), q.kind) for q in quotes]


@pytest.fixture(scope="module")
def plain_quotes(corpus_texts):
    return [extract_quotes(t) for t in corpus_texts]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_corpus_variant_gives_the_plain_quotes_at_the_callers_offsets(variant, corpus_texts, plain_quotes):
    """\\r (81 of 613 quotes before), \\u2028 (81), two trailing spaces (592), blank lines (617)."""
    make = VARIANTS[variant]
    for text, plain in zip(corpus_texts, plain_quotes):
        v = make(text)
        quotes = extract_quotes(v)
        assert _key(quotes) == _key(plain)
        for q in quotes:
            assert v[q.start:q.end] == q.text
            if q.mention_start >= 0:
                assert v[q.mention_start:q.mention_end] == q.speaker_mention


def test_plain_corpus_has_its_613_quotes(plain_quotes):
    assert sum(map(len, plain_quotes)) == 613


def test_blank_line_does_not_turn_a_list_item_into_a_quote():
    text = ("Мемлекет басшысы Үкіметке бірнеше міндет жүктеді:\n"
            "– өңірлерде жаңа жұмыс орындарын ашу жұмысын жалғастыру.\n"
            "Кездесу соңында Президент сәттілік тіледі.")
    assert extract_quotes(text) == []
    assert extract_quotes(text.replace("\n", "\n\n")) == []
    assert extract_quotes(text.replace("\n", "\r\n\r\n")) == []


def test_a_quote_across_paragraphs_keeps_the_callers_line_breaks():
    text = ("Президент былай деді: «Біз бірге боламыз.\r\n\r\nБолашақ біздің қолымызда».\r\n"
            "Кездесу аяқталды.")
    [q] = extract_quotes(text)
    assert q.text == text[q.start:q.end] == "Біз бірге боламыз.\r\n\r\nБолашақ біздің қолымызда"


@pytest.mark.parametrize("raw, clean, had", [
    ("сәлем", "сәлем", False),
    ("a\ud800b", "a\ufffdb", True),
    ("\udfff", "\ufffd", True),
    ("\ud83d\ude00", "\ufffd\ufffd", True),  # a surrogate pair held as two code points is not text either
    ("😀", "😀", False),
])
def test_clean_surrogates(raw, clean, had):
    assert clean_surrogates(raw) == (clean, had)
    assert len(clean) == len(raw)


def test_a_lone_surrogate_is_read_as_replacement_character_everywhere():
    text = "– Біз бірге боламыз, – деді Нұрсұлтан Назарбаев.\ud800 Кездесу аяқталды."
    quotes = extract_quotes(text)
    assert [q.text for q in quotes] == ["Біз бірге боламыз"]
    assert all(text[q.start:q.end] == q.text for q in quotes)
    a = analyze(text)  # onnxruntime raised UnicodeEncodeError here before
    assert SURROGATE_WARNING in a.warnings
    assert a.release_type.label is not None
    assert [q.text for q in a.quotes] == ["Біз бірге боламыз"]


def test_the_fast_path_for_normal_text_agrees_with_the_full_normaliser(monkeypatch):
    """Text already in normal form skips the vectorised pass; both give the same text and offset map."""
    import random

    import numpy as np

    from kzclassify import _normalize as N
    rng = random.Random(0)
    seen = 0
    for _ in range(5000):
        t = "".join(rng.choice("аб «»–.\n \t\u00a0\ufeff\u2028\r") for _ in range(rng.randint(0, 14)))
        with monkeypatch.context() as m:
            m.setattr(N, "_is_normal", lambda s: False)
            full = N.normalize(t)
        if not N._is_normal(t):
            continue
        seen += 1
        fast = N.normalize(t)
        assert full.text == t, repr(t)  # the check says normal only of text the full pass leaves as it is
        assert fast.text == full.text and fast.source_len == full.source_len
        assert np.array_equal(fast.source_index, full.source_index), repr(t)
    assert seen > 500
