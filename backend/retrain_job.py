"""One retraining job's work, in its own process: ``python -m backend.retrain_job --export F --out O [...]``.

The backend runs ``training.retrain.retrain`` here rather than in a thread of the server, so scikit-learn's CPU
work never holds the server's GIL (predictions keep their latency during a retraining), MLflow's and
scikit-learn's console output goes to the job's log rather than the server's, and a crash in training cannot
take the server down. The outcome is written to ``--out`` as JSON: the RetrainOutcome's fields, or
``{"error": "Type: message"}`` (exit 1).
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m backend.retrain_job")
    p.add_argument("--export", required=True, help="the project's Label Studio export (JSON)")
    p.add_argument("--out", required=True, help="where the outcome is written (JSON)")
    p.add_argument("--store", default=None)
    p.add_argument("--models-dir", default=None)
    p.add_argument("--committed", default=None)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=None)
    args = p.parse_args(argv)
    out = Path(args.out)
    try:
        from labeling.io import load_json
        from training.retrain import retrain

        kwargs = {k: Path(v) for k, v in (("models_dir", args.models_dir), ("committed", args.committed)) if v}
        r = retrain(load_json(args.export), store=args.store, folds=args.folds, repeats=args.repeats,
                    log=lambda *a: print(*a, flush=True), **kwargs)
        out.write_text(json.dumps(asdict(r), ensure_ascii=False), encoding="utf-8")
        return 0
    except Exception as e:
        out.write_text(json.dumps({"error": f"{type(e).__name__}: {e}"}, ensure_ascii=False), encoding="utf-8")
        if not isinstance(e, (ValueError, OSError, RuntimeError)):  # a bug: its traceback goes to the job's log
            traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
