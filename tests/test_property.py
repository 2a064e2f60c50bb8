"""Property-based tests on texts made of the corpus's own alphabet and punctuation (issue 11).

Texts are strings of Kazakh letters and words, speech verbs, names and titles,
dashes, guillemets, colons and the line breaks and spaces callers send
(``\\r``, ``\\r\\n``, ``\\u2028``, NBSP, blank lines). For every one:
no exception; offsets index the caller's text; the work of quote detection
(Python lines executed, counted exactly) is bounded by a small multiple of
the length; the whole analysis finishes within a generous deadline.
"""
from hypothesis import HealthCheck, given, settings, strategies as st

from kzclassify import analyze, extract_quotes
from kzclassify import _quotes
from kzclassify._normalize import normalize
from tests.test_growth import _lines_run

LETTERS = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюяАӘБВГҒДЕЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЫІЭЮЯ"
TOKENS = [
    "деді", "деп", "делінген", "деген", "дейді", "депті", "атап өтті", "айтты", "жазды", "былай", "мынадай",
    "хатында", "жеделхатында", "аталған", "нақыл", "Президент", "Мемлекет басшысы", "Елбасы",
    "Нұрсұлтан Назарбаев", "Қасым-Жомарт Тоқаев", "Н.Назарбаев", "министр", "ол", "Біз", "бірге", "боламыз",
    "–", "—", "-", " – ", ", – ", ", –", "«", "»", ":", ": «", ";", ",", ".", "!", "?", "…", "(", ")",
    " ", "  ", "\u00a0", "\t", "\n", "\n", "\r", "\r\n", "\u2028", "\n\n", " \n", "\n– ", "\r\n– ",
]
words = st.text(alphabet=LETTERS, min_size=1, max_size=10)
texts = st.lists(st.one_of(st.sampled_from(TOKENS), words), max_size=120).map("".join)
# longer texts with more structure: paragraphs of dash quotes, guillemet quotes and narration
paragraph = st.lists(st.one_of(st.sampled_from(TOKENS[:26]), words, st.sampled_from([" ", " ", ", – ", "«", "»"])),
                     min_size=1, max_size=40).map(" ".join)
releases = st.lists(st.tuples(st.sampled_from(["", "– ", "«", "Президент былай деді: «"]), paragraph,
                              st.sampled_from(["", ".", ", – деді Президент.", "», – деді ол.", "» деп атап өтті.",
                                               ";", ":"]),
                              st.sampled_from(["\n", "\r\n", "\u2028", "\n\n", "  \n", "\r"])),
                    max_size=15).map(lambda ps: "".join("".join(p) for p in ps))
SETTINGS = settings(max_examples=200, deadline=5000, database=None, suppress_health_check=[HealthCheck.too_slow])


def _check_offsets(text, quotes):
    last = -1
    for q in quotes:
        assert 0 <= q.start < q.end <= len(text)
        assert text[q.start:q.end] == q.text
        assert q.start >= last  # sorted
        last = q.start
        if q.mention_start >= 0:
            assert q.mention_start < q.mention_end <= len(text)
            assert text[q.mention_start:q.mention_end] == q.speaker_mention
        else:
            assert q.mention_end == -1


@SETTINGS
@given(st.one_of(texts, releases))
def test_extract_quotes_offsets_index_the_input(text):
    _check_offsets(text, extract_quotes(text))


@settings(max_examples=60, deadline=10_000, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, releases))
def test_analyze_never_raises(text):
    a = analyze(text)
    _check_offsets(text, a.quotes)
    assert a.to_dict()["quotes"] == [q.to_dict() for q in a.quotes]


@SETTINGS
@given(st.one_of(texts, releases))
def test_find_quotes_spans_index_the_input(text):
    for q in _quotes.find_quotes(text):
        assert 0 <= q.start < q.end <= len(text)
        assert text[q.start:q.end] == text[q.start:q.end].strip()  # trimmed
        if q.cue_start >= 0:
            assert 0 <= q.cue_start <= q.tail_start <= q.cue_end <= len(text)  # a resumed quote shares its cue
            assert q.cue_end - q.tail_start <= _quotes.MAX_TAIL_CHARS


@SETTINGS
@given(st.one_of(texts, releases))
def test_normalized_text_maps_back(text):
    n = normalize(text)
    assert "\n\n" not in n.text and n.text == n.text.strip()
    assert all(line == line.strip() for line in n.text.split("\n"))
    idx = n.source_index.tolist()
    assert idx == sorted(set(idx)) and all(0 <= i < len(text) for i in idx)


@SETTINGS
@given(st.one_of(texts, releases))
def test_find_quotes_work_is_bounded_by_the_length(text):
    # a fixed start-up cost, then a few lines per character (the corpus needs 0.07)
    assert _lines_run(_quotes.find_quotes, text) <= 300 + 5 * len(text)
