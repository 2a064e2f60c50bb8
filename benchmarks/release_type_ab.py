"""Same-process A/B of the release-type stage: building the input + one ONNX run, one release at a time.

    python benchmarks/release_type_ab.py --before OLD.onnx [NAME=NEW.onnx ...]

``--before`` is read with the input without structure tokens (``type_input(text, structure=False)``),
the others with ``type_input(text)``; default: the shipped model only. Best of 5 over the 393 releases.
"""
from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import best  # noqa: E402  (benchmarks/ is on the path when run as a script)


def main(argv=None) -> None:
    import onnxruntime as ort

    from kzclassify._features import type_input
    from kzclassify.corpus import read_corpus
    p = argparse.ArgumentParser()
    p.add_argument("--before", help="an earlier model that reads the input without structure tokens")
    p.add_argument("models", nargs="*", help="NAME=PATH of models that read type_input")
    a = p.parse_args(argv)
    texts = [r.text for r in read_corpus(ROOT / "data" / "akorda_kk.txt")]
    configs = [("before (" + a.before + ")", a.before, partial(type_input, structure=False))] if a.before else []
    configs += [(m.split("=", 1)[0], m.split("=", 1)[1], type_input) for m in a.models] or [
        ("shipped", str(ROOT / "models" / "release_type" / "model.onnx"), type_input)]
    n = len(texts)
    print(f"{'model':60s} input ms  onnx ms  total ms / release")
    for name, path, fn in configs:
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        xs = [fn(t) for t in texts]
        t_in = best(lambda: [fn(t) for t in texts]) / n * 1e3
        t_on = best(lambda: [sess.run(None, {"text": np.array([x], dtype=object).reshape(-1, 1)}) for x in xs]) / n * 1e3
        print(f"{name[:60]:60s} {t_in:7.3f} {t_on:8.3f} {t_in + t_on:8.3f}")


if __name__ == "__main__":
    main()
