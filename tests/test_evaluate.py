"""`kzclassify evaluate GOLD`: the models scored on a user's own annotated releases."""
import json
import subprocess
import sys

from conftest import EXPORT, ROOT


def run(module, *args):
    import os
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd="/")


def test_type_scores_are_sklearns():
    import random

    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    from kzclassify.metrics import type_scores
    rnd = random.Random(7)
    labels = ["a", "b", "c", "d"]
    gold = [rnd.choice(labels[:3]) for _ in range(200)]
    pred = [g if rnd.random() < 0.6 else rnd.choice(labels) for g in gold]
    s = type_scores(gold, pred, labels)
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    assert abs(s["accuracy"] - accuracy_score(gold, pred)) < 1e-12
    assert abs(s["macro_f1"] - f1_score(gold, pred, labels=labels, average="macro", zero_division=0)) < 1e-12
    for i, label in enumerate(labels):
        c = s["per_class"][label]
        assert (abs(c["precision"] - p[i]), abs(c["recall"] - r[i]), abs(c["f1"] - f[i])) < (1e-12,) * 3
        assert c["support"] == n[i]


def test_evaluate_a_gold_file_from_the_export(tmp_path):
    gold = tmp_path / "gold.jsonl"
    r = run("labeling", "gold", str(EXPORT), "-o", str(gold))
    assert r.returncode == 0 and b"393 releases" in r.stderr
    lines = [json.loads(x) for x in gold.read_text(encoding="utf-8").splitlines()][:25]
    # a person's own file: quotes given by their words, one release's type wrong on purpose, one unannotated
    for obj in lines:
        for q in obj["quotes"]:
            del q["start"], q["end"]
    wrong = next(i for i, o in enumerate(lines) if o["type"] == "meeting" and i != 1)
    lines[wrong]["type"] = "telegram"
    lines[1]["type"] = None
    small = tmp_path / "mine.jsonl"
    small.write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in lines) + "\n", encoding="utf-8")

    r = run("kzclassify", "evaluate", str(small), "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["releases"] == 25 and rep["type"]["n"] == 24
    assert rep["type"]["accuracy"] <= 23 / 24  # the label changed on purpose cannot be predicted
    assert rep["type"]["per_class"]["telegram"]["recall"] < 1 and rep["type"]["per_class"]["meeting"]["precision"] < 1
    n_quotes = sum(len(o["quotes"]) for o in lines)
    assert rep["quotes"]["gold_quotes"] == n_quotes and rep["quotes"]["releases"] == 25
    assert 0.8 < rep["quotes"]["exact_f1"] <= 1 and 0.8 < rep["quotes"]["speaker_acc_exact"] <= 1

    table = run("kzclassify", "evaluate", str(small))
    assert table.returncode == 0 and b"macro-F1" in table.stdout and b"speaker accuracy" in table.stdout


def test_evaluate_refuses_bad_gold_by_name(tmp_path):
    r = run("kzclassify", "evaluate", str(EXPORT))
    assert r.returncode == 2 and b"python -m labeling gold" in r.stderr and b"Traceback" not in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Мәтін.", "type": "event"}\n{"text": "Мәтін.", "quotes": [{"quote": "жоқ"}]}\n',
                   encoding="utf-8")
    r = run("kzclassify", "evaluate", str(bad))
    assert r.returncode == 2 and "bad.jsonl:2: quotes[0]: 'жоқ' is not in the text" in r.stderr.decode()
    assert b"Traceback" not in r.stderr
