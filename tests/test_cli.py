"""The kzclassify CLI as a user runs it: exit codes, one-line errors, JSON Lines."""
import json
import subprocess
import sys

from conftest import CORPUS, ROOT

SAMPLE = "Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті.\n– Жақсы, – деді Қасым-Жомарт Тоқаев."


def run(*args, stdin=None, env_extra=None):
    import os
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "kzclassify", *args], input=stdin, capture_output=True,
                          env=env, cwd="/")


def test_corpus_file_gives_one_json_line_per_release():
    r = run("classify", str(CORPUS), "-q")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(l) for l in r.stdout.decode().splitlines()]
    assert len(lines) == 393 and len({l["id"] for l in lines}) == 393
    assert all(l["release_type"]["label"] for l in lines)


def test_stdin_and_pretty():
    r = run("analyze", "-", stdin=SAMPLE.encode())
    rec = json.loads(r.stdout)
    assert r.returncode == 0 and rec["quotes"][0]["speaker"] == "Қасым-Жомарт Тоқаев"
    r = run("quotes", "--pretty", stdin=SAMPLE.encode())
    assert "Қасым-Жомарт Тоқаев" in r.stdout.decode()


def test_one_bad_file_does_not_lose_the_others(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(SAMPLE, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02\x03junk\x00")
    notutf = tmp_path / "latin1.txt"
    notutf.write_bytes("Мәтін".encode("utf-8")[:-1] + b"\xe9")
    truncated = tmp_path / "utf16.txt"
    truncated.write_bytes(b"\xff\xfe\x00junk")  # a UTF-16 byte-order mark, then an odd number of bytes
    r = run("analyze", str(bad), str(good), str(notutf), str(truncated), str(tmp_path / "missing.txt"))
    assert r.returncode == 1
    assert len(r.stdout.decode().splitlines()) == 1
    err = r.stderr.decode()
    assert "Traceback" not in err
    assert err.count("kzclassify: error:") == 4
    assert "binary" in err and "invalid UTF-8" in err and "not valid UTF-16" in err and "no such file" in err
    assert "--encoding cp1251" in err  # the hint for text in a Windows code page


def test_all_inputs_bad_is_exit_2_and_usage_error_is_exit_2(tmp_path):
    r = run("classify", str(tmp_path / "missing.txt"))
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    r = run("nonsense")
    assert r.returncode == 2 and b"Traceback" not in r.stderr


def test_empty_and_huge_inputs(tmp_path):
    r = run("analyze", stdin=b"   \n")
    assert r.returncode == 0 and r.stdout == b"" and b"no text" in r.stderr
    huge = tmp_path / "huge.txt"
    huge.write_text((SAMPLE + "\n") * 90_000, encoding="utf-8")  # ~10 MB, one release
    r = run("classify", str(huge))
    assert r.returncode == 2 and b"limit for one release" in r.stderr and b"Traceback" not in r.stderr


def test_corrupt_model_is_exit_3_with_the_file_named(tmp_path):
    import shutil
    d = tmp_path / "models"
    shutil.copytree(ROOT / "models", d)
    (d / "release_type" / "model.onnx").write_bytes(b"corrupt")
    r = run("classify", stdin=SAMPLE.encode(), env_extra={"KZCLASSIFY_MODEL_DIR": str(d)})
    assert r.returncode == 3
    err = r.stderr.decode()
    assert "release_type/model.onnx: sha256" in err and "Traceback" not in err and err.count("\n") == 1


def test_info():
    r = run("info")
    assert r.returncode == 0 and json.loads(r.stdout)["models"]["release_type"]["sha256"]


def test_unwritable_or_closed_streams_are_one_line_errors():
    import os
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = f"{sys.executable} -m kzclassify analyze"
    for redir, code in ((">/dev/full", 1), (">&-", 2), ("- <&-", 2)):
        r = subprocess.run(f"{cmd} {redir}", shell=True, input=None if "<&-" in redir else SAMPLE.encode(),
                           capture_output=True, env=env, cwd="/")
        err = r.stderr.decode()
        assert r.returncode == code, (redir, err)
        assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("kzclassify: error:"), (redir, err)


def test_info_exits_3_and_names_a_corrupt_model(tmp_path):
    import shutil
    d = tmp_path / "models"
    shutil.copytree(ROOT / "models", d)
    (d / "quote_speaker" / "manifest.json").write_text('{"format_version": 1, "file": 5}')
    r = run("info", env_extra={"KZCLASSIFY_MODEL_DIR": str(d)})
    assert r.returncode == 3 and b"Traceback" not in r.stderr
    assert b"quote_speaker/manifest.json" in r.stderr and json.loads(r.stdout)["models"]["release_type"]["ok"]


def test_below_lists_only_uncertain_releases():
    every = run("classify", str(CORPUS), "-q")
    scores = [json.loads(l)["release_type"]["score"] for l in every.stdout.decode().splitlines()]
    cut = round(sorted(scores)[len(scores) // 2], 6)  # the median: about half the releases are below it
    r = run("classify", str(CORPUS), "-q", "--below", str(cut))
    kept = [json.loads(l)["release_type"]["score"] for l in r.stdout.decode().splitlines()]
    assert r.returncode == 0 and len(kept) == sum(s < cut for s in scores) and 0 < len(kept) < len(scores)
    assert run("classify", "--below", "2").returncode == 2
