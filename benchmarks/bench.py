"""Speed and memory of kzclassify, measured against references in the same run.

Prints, on the same texts (the 393 corpus releases): releases/second for
classify_many, extract_quotes and analyze, single and batched; the same for
the scikit-learn pipeline the release-type model came from; one
``re.findall(r"\\w+")`` pass as the floor; import time and cold start (fresh
process); peak memory; wheel size. Run: ``make bench`` (or python benchmarks/bench.py).
"""
from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from paths import CORPUS, ROOT  # noqa: E402


def best(fn, repeat=3, clock=time.perf_counter):
    """Least time of ``repeat`` runs by ``clock`` (wall time by default; ``time.process_time`` for CPU time)."""
    times = []
    for _ in range(repeat):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


def fresh(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/",
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    if out.returncode:
        raise RuntimeError(out.stderr)
    return float(out.stdout.strip())


def main() -> None:
    from kzclassify.corpus import read_corpus
    texts = [r.text for r in read_corpus(CORPUS)]
    n = len(texts)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    rows = []

    floor = best(lambda: [re.findall(r"\w+", t) for t in texts])
    rows.append(("re.findall(r'\\w+') floor", n / floor))

    import kzclassify
    kzclassify.analyze(texts[0])  # load models
    rows.append(("classify_many (all texts, batches of 32)", n / best(lambda: kzclassify.classify_many(texts))))
    rows.append(("classify (one at a time)", n / best(lambda: [kzclassify.classify(t) for t in texts])))
    rows.append(("extract_quotes", n / best(lambda: [kzclassify.extract_quotes(t) for t in texts])))
    t_an = best(lambda: [kzclassify.analyze(t) for t in texts])
    rows.append(("analyze (one at a time)", n / t_an))

    ratio_sklearn = None
    try:
        import mlflow

        from kzclassify._features import type_input
        from training import tracking
        from training.release_type import MODEL_NAME
        tracking.setup("release-type")
        est = mlflow.sklearn.load_model(f"models:/{MODEL_NAME}@champion")
        t_sk = best(lambda: est.predict_proba([type_input(t) for t in texts]))
        t_sk1 = best(lambda: [est.predict_proba([type_input(t)]) for t in texts])
        rows.append(("sklearn pipeline (one batch)", n / t_sk))
        rows.append(("sklearn pipeline (one at a time)", n / t_sk1))
        t_onnx1 = best(lambda: [kzclassify.classify(t) for t in texts])
        t_onnxb = best(lambda: kzclassify.classify_many(texts))
        ratio_sklearn = (t_sk1 / t_onnx1, t_sk / t_onnxb, t_sk1 / t_an)
    except Exception as e:  # the training extra or a registered model is missing
        rows.append((f"sklearn pipeline: not measured ({type(e).__name__}: {e})"[:100], float("nan")))

    imp = fresh("import time; t=time.perf_counter(); import kzclassify; print(time.perf_counter()-t)")
    cold = fresh("import time; t=time.perf_counter(); import kzclassify; "
                 "kzclassify.analyze('Мемлекет басшысы кездесті.\\n– Жақсы, – деді Нұрсұлтан Назарбаев.'); "
                 "print(time.perf_counter()-t)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # VmHWM, not ru_maxrss: ru_maxrss survives fork+exec and would report the parent's peak
    hwm = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])/1024"
    base_fresh = fresh(f"print({hwm})")
    peak_fresh = fresh("import kzclassify; from kzclassify.corpus import read_corpus; "
                       f"[kzclassify.analyze(r.text) for r in read_corpus({str(CORPUS)!r})]; "
                       f"kzclassify.classify_many([r.text for r in read_corpus({str(CORPUS)!r})]); "
                       f"print({hwm})")
    wheels = sorted((ROOT / "dist").glob("kzclassify-*.whl")) if (ROOT / "dist").exists() else []

    print(f"texts: {n} releases, {mb:.2f} MB UTF-8; best of 3 runs; python {sys.version.split()[0]}")
    print(f"{'what':45s} {'releases/s':>12s}")
    for name, v in rows:
        print(f"{name:45s} {v:12.1f}")
    print(f"analyze cost / regex floor: {floor and (t_an / floor):.1f}x (aim ≤ 5x)")
    if ratio_sklearn:
        print(f"vs the sklearn pipeline: classify {ratio_sklearn[0]:.1f}x faster one at a time, classify_many "
              f"{ratio_sklearn[1]:.1f}x faster batched; analyze (type + quotes) {ratio_sklearn[2]:.1f}x faster "
              f"than sklearn's type alone, one at a time (aim ≥ 2x)")
    print(f"import kzclassify: {imp * 1000:.0f} ms; cold start (import + load + first analyze): {cold * 1000:.0f} ms (aim ≤ 300)")
    print(f"peak RSS: kzclassify alone analysing the corpus {peak_fresh:.0f} MB (bare python {base_fresh:.0f} MB); "
          f"this benchmark process with sklearn/MLflow {peak:.0f} MB")
    if wheels:
        print(f"wheel: {wheels[-1].name} {wheels[-1].stat().st_size / 1e6:.2f} MB (aim ≤ 5)")
    else:
        print("wheel: not built (python -m build --wheel)")
    print(json.dumps({"analyze_over_floor": t_an / floor, "cold_start_s": cold}))


if __name__ == "__main__":
    main()
