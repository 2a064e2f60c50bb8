"""Label Studio config, result encoding, export validation, conversion to datasets."""
import copy
import json

import pytest

from kzclassify import Analysis, Person, Quote, ReleaseType
from labeling.cli import main as labeling_main
from labeling.ls_format import annotated, annotated_quote, from_results, to_prediction, to_results
from labeling.schema import schema
from labeling.validate import validate_export

TEXT = "Кездесу өтті.\n– Біз дайынбыз, – деді Мемлекет басшысы."


def _ann():
    s = TEXT.index("Біз")
    m = TEXT.index("Мемлекет")
    return annotated("meeting", [annotated_quote(TEXT, s, s + 12, m, m + 16, "Қасым-Жомарт Тоқаев")], "note")


def _task(ann=None, tid=1, text=TEXT):
    return {"id": tid, "data": {"text": text}, "annotations": [{"id": tid, "result": to_results(ann or _ann())}]}


def test_config_is_the_source_of_the_label_set():
    sc = schema()
    assert sc.types == ("meeting", "telegram", "award", "ceremony", "phone_call", "visit", "event", "other")
    assert sc.span_labels == ("QUOTE", "SPEAKER", "PERSON") and sc.relation_labels == ()  # a relation means said_by
    assert sc.canonical_name == "canonical"


def test_results_round_trip():
    ann = _ann()
    assert ann.quotes[0].text == "Біз дайынбыз"
    back = from_results(to_results(ann), TEXT)
    assert back == ann


# a release where one person is named, called by title, and quoted; a guest is named twice
PEOPLE_TEXT = ("Мемлекет басшысы Қасым-Жомарт Тоқаев Жапония елшісі Такэси Ясудамен кездесті. "
               "Тоқаев елшіге алғыс айтты.\n– Біз дайынбыз, – деді Президент. Ясуда мырза келісті.")


def _at(word, nth=1, text=PEOPLE_TEXT):
    i = -1
    for _ in range(nth):
        i = text.index(word, i + 1)
    return i, i + len(word), word


def _people_analysis(text=PEOPLE_TEXT):
    """A model's analysis with people: the President (four mentions, one the speaker) and a guest;
    one mention of the guest lies inside the quote and one of the President is the speaker's."""
    t = text
    qs = t.index("Біз")
    pres = Person("Қасым-Жомарт Тоқаев", ("Мемлекет басшысы",),
                  (_at("Мемлекет басшысы", text=t), _at("Қасым-Жомарт Тоқаев", text=t), _at("Тоқаев", 2, t),
                   _at("Президент", text=t)))
    guest = Person("Такэси Ясуда", ("Жапония елшісі",),
                   (_at("Такэси Ясуда", text=t), _at("елшіге", text=t), _at("Ясуда", 2, t),
                    (qs + 4, qs + 12, t[qs + 4:qs + 12])))  # "дайынбыз": inside the quote, left out
    ps, pe, _ = _at("Президент", text=t)
    q = Quote(t[qs:qs + 12], qs, qs + 12, "dash", "деді", "Қасым-Жомарт Тоқаев", "Президент", ps, pe,
              "person", 0.9, person=0)
    return Analysis(ReleaseType.from_scores({"meeting": 0.8, "visit": 0.2}), (q,), (), (pres, guest))


def _regions(results, label):
    return [r for r in results if r.get("type") == "labels" and r["value"]["labels"] == [label]]


def test_people_become_person_regions_outside_quotes_and_speakers():
    res = to_prediction(_people_analysis(), "m")["result"]
    persons, taken = _regions(res, "PERSON"), _regions(res, "QUOTE") + _regions(res, "SPEAKER")
    canon = {r["id"]: r["value"]["text"] for r in res if r.get("from_name") == "canonical"}
    got = sorted((r["value"]["text"], canon[r["id"]]) for r in persons)
    assert got == sorted([("Мемлекет басшысы", ["Қасым-Жомарт Тоқаев"]), ("Қасым-Жомарт Тоқаев", ["Қасым-Жомарт Тоқаев"]),
                          ("Тоқаев", ["Қасым-Жомарт Тоқаев"]), ("Такэси Ясуда", ["Такэси Ясуда"]),
                          ("елшіге", ["Такэси Ясуда"]), ("Ясуда", ["Такэси Ясуда"])])
    for p in persons:
        v = p["value"]
        assert PEOPLE_TEXT[v["start"]:v["end"]] == v["text"]
        assert not any(v["start"] < t["value"]["end"] and t["value"]["start"] < v["end"] for t in taken)
    assert not any(r.get("type") == "relation" and "p" in (r["from_id"][0], r["to_id"][0]) for r in res)


def test_round_trip_keeps_the_people():
    a = _people_analysis()
    back = from_results(to_results(a), PEOPLE_TEXT).analysis
    # the mention inside the quote is not a region; titles are not annotated
    want = [(p.name, tuple(m for m in p.mentions if m[2] != "дайынбыз")) for p in a.people]
    assert [(p.name, p.mentions) for p in back.people] == want
    assert [q.person for q in back.quotes] == [0] and back.people[0].name == back.quotes[0].speaker
    again = from_results(to_results(back), PEOPLE_TEXT)
    assert again.analysis == back  # an annotation's people survive encoding unchanged


def test_people_are_grouped_by_canonical_name_in_order_of_first_mention():
    t = PEOPLE_TEXT
    qs, (ps, pe, _) = t.index("Біз"), _at("Президент")
    ann = annotated("meeting", [annotated_quote(t, qs, qs + 12, ps, pe, "Қасым-Жомарт Тоқаев")],
                    mentions=[(*_at("Ясуда", 2), "Такэси Ясуда"), (*_at("Мемлекет басшысы"), "Қасым-Жомарт Тоқаев"),
                              (*_at("Такэси Ясуда"), "Такэси Ясуда"), (*_at("Тоқаев", 2), "")])
    people = ann.analysis.people
    assert [p.name for p in people] == ["Қасым-Жомарт Тоқаев", "Такэси Ясуда"]
    assert [m[2] for m in people[0].mentions] == ["Мемлекет басшысы", "Президент"]  # the speaker counts
    assert [m[2] for m in people[1].mentions] == ["Такэси Ясуда", "Ясуда"]
    assert ann.quotes[0].person == 0
    back = from_results(to_results(ann), t)  # the nameless PERSON is not encoded: it names no one
    assert back.analysis.people == people


def _person_task():
    a = _people_analysis()
    return {"id": 1, "data": {"text": PEOPLE_TEXT},
            "annotations": [{"id": 1, "result": to_results(a)}]}


def test_validate_person_rules():
    t = _person_task()
    assert _problems([t]) == []
    res = t["annotations"][0]["result"]
    # a PERSON without its canonical name is allowed (it names no one) ...
    res[:] = [r for r in res if not (r.get("from_name") == "canonical" and r["id"] == "p1")]
    assert _problems([t]) == []
    assert "Мемлекет басшысы" not in [m[2] for p in from_results(res, PEOPLE_TEXT).analysis.people
                                      for m in p.mentions]
    # ... a PERSON linked by a relation is not, either way round
    res.append({"from_id": "q1", "to_id": "p2", "type": "relation", "direction": "right", "labels": []})
    assert "task 1: relation q1->p2 links PERSON p2: a PERSON is never linked; the one who says a quote is " \
           "its SPEAKER" in _problems([t])
    res[-1].update(from_id="p2", to_id="s1")
    assert any("relation p2->s1 links PERSON p2" in p for p in _problems([t]))
    # an unlinked SPEAKER is still a problem when PERSON regions are there
    t = _person_task()
    t["annotations"][0]["result"] = [r for r in t["annotations"][0]["result"] if r.get("type") != "relation"]
    assert "task 1: SPEAKER s1 'Президент' is linked to no QUOTE" in _problems([t])


def test_committed_export_is_valid_and_complete(export):
    rep = validate_export(export)
    assert rep.ok, rep.problems[:5]
    assert len(rep.releases) == 393


def _problems(export):
    return [str(p) for p in validate_export(export).problems]


def test_unknown_choice():
    t = _task()
    t["annotations"][0]["result"][0]["value"]["choices"] = ["interview"]
    assert any("unknown release type 'interview'" in p for p in _problems([t]))


def test_offsets_whose_text_does_not_match():
    t = _task()
    q = next(r for r in t["annotations"][0]["result"] if r.get("id") == "q1")
    q["value"]["start"] += 1
    ps = _problems([t])
    assert ps[0] == "task 1: span q1: offsets 17..28 give 'із дайынбыз', result says 'Біз дайынбыз'"


def test_quote_without_speaker_relation():
    t = _task()
    t["annotations"][0]["result"] = [r for r in t["annotations"][0]["result"] if r.get("type") != "relation"]
    assert any("has 0 SPEAKER relations" in p for p in _problems([t]))


def test_speaker_without_canonical_name():
    t = _task()
    t["annotations"][0]["result"] = [r for r in t["annotations"][0]["result"] if r.get("from_name") != "canonical"]
    assert any("has no canonical name" in p for p in _problems([t]))


def test_duplicated_tasks_and_wrong_release_id():
    a, b = _task(tid=1), _task(tid=2, text=TEXT.replace(" ", "  "))
    a["data"]["release_id"] = "000000000000"
    ps = _problems([a, b])
    assert any("task 2: duplicate of task 1" in p for p in ps)
    assert any("does not match its text" in p for p in ps)


def test_malformed_exports():
    assert "expected a list" in _problems({"tasks": []})[0]
    assert "no data object" in _problems([{"id": 5}])[0]
    t = _task()
    t["annotations"][0]["result"] = "oops"
    assert "expected a list" in _problems([t])[0]
    t = _task()
    t["annotations"] = []
    assert "no submitted annotation" in _problems([t])[0]
    assert validate_export([t], require_annotations=False).ok


def test_several_annotations_need_one_ground_truth():
    t = _task()
    t["annotations"].append(copy.deepcopy(t["annotations"][0]))
    assert any("adjudicate" in p for p in _problems([t]))
    t["annotations"][1]["ground_truth"] = True
    assert _problems([t]) == []


def test_validate_cli_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps([_task()], ensure_ascii=False), encoding="utf-8")
    assert labeling_main(["validate", str(good)]) == 0
    bad = tmp_path / "bad.json"
    t = _task()
    t["annotations"][0]["result"][0]["value"]["choices"] = ["x"]
    bad.write_text(json.dumps([t]), encoding="utf-8")
    assert labeling_main(["validate", str(bad)]) == 1
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    assert labeling_main(["validate", str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_server_down_is_a_clear_message(capsys):
    assert labeling_main(["pull", "--url", "http://127.0.0.1:9"]) == 3
    err = capsys.readouterr().err
    assert "not reachable at http://127.0.0.1:9" in err and "Traceback" not in err


def test_conversion_to_datasetdict(rows):
    from training.data import SPLITS, build_dataset, split_of
    from conftest import EXPORT
    ds = build_dataset(EXPORT)
    assert set(ds) == set(SPLITS)
    ids = [i for s in SPLITS for i in ds[s]["id"]]
    assert len(ids) == len(set(ids)) == 393
    for s in SPLITS:
        assert all(split_of(i) == s for i in ds[s]["id"])
    r = ds["train"][0]
    for q in r["quotes"]:
        assert r["text"][q["start"]:q["end"]] == q["text"]
        assert r["text"][q["mention_start"]:q["mention_end"]] == q["speaker_mention"]


def test_agreement_and_prediction_report(export):
    from labeling.agreement import agreement, prediction_report
    a = agreement(export)
    assert a["releases"] == 60 and 0.9 <= a["type_agreement"] <= 1.0
    r = prediction_report(export)
    assert r["releases"] == 393 and r["quotes_final"] == 615


def test_tasks_carry_a_prediction(tmp_path):
    from labeling.tasks import make_tasks
    p = tmp_path / "r.txt"
    p.write_text(TEXT, encoding="utf-8")
    [t] = make_tasks([p], source="rules")
    [pred] = t["predictions"]
    assert pred["model_version"].startswith("rules") and 0 <= pred["score"] <= 1
    assert from_results(pred["result"], t["data"]["text"]).quotes[0].text == "Біз дайынбыз"
    [t] = make_tasks([p], source="model")
    from kzclassify import Analyzer
    assert t["predictions"][0]["model_version"] == Analyzer().model_version != "rules-3"


def test_readings_become_annotations_with_exact_offsets(tmp_path):
    from labeling.submit import ReadingError, load_readings, reading_to_annotation
    text = ("Мемлекет басшысы Қасым-Жомарт Тоқаев сөйледі.\n– Біз дайынбыз, – деді Мемлекет басшысы.\n"
            "– Біз дайынбыз, – деді Мемлекет басшысы.")
    r = {"id": "x", "type": "event", "note": "two identical quotes",
         "quotes": [{"text": "Біз дайынбыз", "speaker_mention": "Мемлекет басшысы", "speaker": "Қасым-Жомарт Тоқаев"},
                    {"text": "Біз дайынбыз", "occurrence": 2, "speaker_mention": "Мемлекет басшысы",
                     "speaker": "Қасым-Жомарт Тоқаев"}]}
    ann = reading_to_annotation(r, text)
    q1, q2 = ann.quotes
    assert q1.start < q2.start and text[q2.start:q2.end] == "Біз дайынбыз"
    # each quote's mention is the one in its own tail, not the first in the text
    assert q1.mention_start == text.index("Мемлекет басшысы.", q1.end)
    assert q2.mention_start == text.rindex("Мемлекет басшысы")
    assert from_results(to_results(ann), text) == ann
    bad = dict(r, quotes=[{"text": "жоқ мәтін", "speaker_mention": "x", "speaker": "y"}])
    with pytest.raises(ReadingError, match="text not found"):
        reading_to_annotation(bad, text)
    f = tmp_path / "r.jsonl"
    f.write_text(json.dumps(r, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(ReadingError, match=":2: not JSON"):
        load_readings(f)
