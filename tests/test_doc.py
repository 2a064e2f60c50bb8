"""The Doc answers what the stages used to scan the text for: each lookup equals its regex definition.

Texts come from the property tests' alphabet (Kazakh letters and words, speech verbs, dashes, guillemets,
sentence marks, every kind of space and line break), normalised as at the entrance.
"""
import re

from hypothesis import given, settings

from kzclassify._doc import Doc
from kzclassify._normalize import normalize
from kzclassify._people import _sentence_start
from tests.test_property import texts

SETTINGS = settings(max_examples=300, deadline=None)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")  # what attribution split sentences with before the Doc
_SENT_START = re.compile(r"(?:^|\n|[.!?] )(?=[^\n.!?]*$)")  # what the group finder looked back with


def _positions(n):
    return sorted({0, n, n // 3, n // 2, max(0, n - 1)} | set(range(0, n, 7)))


@SETTINGS
@given(texts)
def test_words_and_sentences_match_their_regex_definitions(raw):
    text = normalize(raw).text
    doc = Doc(text)
    assert list(zip(doc.word_starts, doc.word_ends)) == [m.span() for m in re.finditer(r"\S+", text)]
    sent = sorted({m.end() for m in _SENT_SPLIT.finditer(text)} | {i + 1 for i, c in enumerate(text) if c == "\n"})
    assert doc.sentence_starts == sent
    for a in _positions(len(text)):
        for b in (a, a + 1, a + 5, a + 40, len(text)):
            assert [w[2] for w in doc.words_in(a, b)] == re.findall(r"\S+", text[a:b])
            assert doc.breaks_between(a, b) == len(_SENT_SPLIT.findall(text[a:b]))
            assert doc.has_word_in(a, b) == bool(re.search(r"\S", text[a:b]))
        nxt = re.compile(r"\s+(\S+)").match(text, a)
        assert doc.next_word(a) == (nxt.group(1) if nxt else None)


@SETTINGS
@given(texts)
def test_sentence_start_before_a_word_matches_the_look_back_it_replaced(raw):
    text = normalize(raw).text
    doc = Doc(text)
    for pos in _positions(len(text)):
        if not (pos >= 2 and text[pos - 1] == " " and not text[pos - 2].isspace()):
            continue  # the group finder asks only before a word that follows "<word> "
        lo = max(0, pos - 200)
        st = _SENT_START.search(text[lo:pos])
        want = -1 if st is None or (st.start() == 0 and lo > 0 and text[lo - 1] not in "\n") else lo + st.end()
        assert _sentence_start(doc, lo, pos) == want
