"""``python -m training``: release-type, quotes, export, all."""
from __future__ import annotations

import argparse
import json
import sys


def _parser():
    p = argparse.ArgumentParser(prog="python -m training")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("release-type", "quotes", "all"):
        s = sub.add_parser(name)
        s.add_argument("--export", default=None, help="Label Studio export (default labeling/annotations/export.json)")
        s.add_argument("--store", default=None, help="MLflow store dir (default mlruns/; MLFLOW_TRACKING_URI overrides)")
        s.add_argument("--folds", type=lambda v: int(float(v)), default=5)
        s.add_argument("--no-export", action="store_true", help="train and register only")
    t = sub.add_parser("transformer", help="fine-tune a local transformer checkpoint (optional path)")
    t.add_argument("--base-model", required=True, help="a local transformers checkpoint directory")
    t.add_argument("--export", default=None)
    t.add_argument("--store", default=None)
    t.add_argument("--folds", type=lambda v: int(float(v)), default=5)
    t.add_argument("--epochs", type=lambda v: int(float(v)), default=3)
    t.add_argument("--batch-size", type=lambda v: int(float(v)), default=16)
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--max-length", type=lambda v: int(float(v)), default=256)
    t.add_argument("--out", default=None, help="default models/release_type_transformer")
    e = sub.add_parser("export", help="export a registered model version or alias to models/")
    e.add_argument("what", choices=["release-type", "quotes"])
    e.add_argument("--ref", default="champion", help="version number or alias")
    e.add_argument("--store", default=None)
    from . import pyfunc, score  # the end-to-end model (issue 16)
    pyfunc.add_parser(sub)
    score.add_parser(sub)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if getattr(args, "func", None):
        return args.func(args)
    from . import export
    from . import quotes, release_type, report
    stages = {"release-type": (release_type.train, report.release_type_tables, report.release_type_card,
                               export.export_release_type, "release_type"),
              "quotes": (quotes.train, report.quotes_tables, report.quotes_card, export.export_quotes, "quote_speaker")}
    for name, (train, tables, card, export_fn, folder) in stages.items():
        if args.cmd not in (name, "all"):
            continue
        r = train(args.export, args.store, args.folds)
        print(tables(r))
        if not args.no_export:
            m = export_fn(r.version, store=args.store)
            (export.ROOT / "models" / folder / "CARD.md").write_text(card(r), encoding="utf-8")
            print(f"exported {m['model_version']} → models/{folder} (parity {m['parity']})")
    if args.cmd == "all":  # the end-to-end pyfunc wraps the wheel built from models/ as it is now
        from . import pyfunc
        pyfunc.cli(args)
    if args.cmd == "transformer":
        from pathlib import Path

        from . import transformer
        r = transformer.train(args.base_model, args.export, args.store, args.folds, args.epochs, args.batch_size,
                              args.lr, args.max_length, out=Path(args.out) if args.out else None)
        print(f"transformer run {r.run_id} v{r.version}: CV accuracy {r.cv['accuracy']:.3f}, "
              f"macro-F1 {r.cv['macro_f1']:.3f}; test accuracy {r.test['accuracy']:.3f}; ONNX → {r.model_dir}")
        return 0
    if args.cmd == "export":
        m = (export.export_release_type if args.what == "release-type" else export.export_quotes)(args.ref, store=args.store)
        print(json.dumps(m, ensure_ascii=False, indent=1))
    return 0
