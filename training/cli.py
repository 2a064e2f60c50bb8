"""``python -m training``: release-type, quotes, all (train → register → export), export, transformer."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from paths import MODELS


def _int(v: str) -> int:
    return int(float(v))  # MLflow passes float parameters as "5.0"


def cmd_train(args) -> int:
    """Train, register and (unless --no-export) export the part models named by the subcommand."""
    from . import export, quotes, release_type, report
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
            (MODELS / folder / "CARD.md").write_text(card(r), encoding="utf-8")
            export.card_figures(r.run_id, MODELS / folder)
            print(f"exported {m['model_version']} → models/{folder} (parity {m['parity']})")
    if args.cmd == "all" and not args.no_export:  # the end-to-end pyfunc wraps the wheel built from models/ as now
        from . import pyfunc
        pyfunc.cli(args)
    return 0


def cmd_transformer(args) -> int:
    from . import transformer
    r = transformer.train(args.base_model, args.export, args.store, args.folds, args.epochs, args.batch_size,
                          args.lr, args.max_length, out=Path(args.out) if args.out else None)
    print(f"transformer run {r.run_id} v{r.version}: CV accuracy {r.cv['accuracy']:.3f}, "
          f"macro-F1 {r.cv['macro_f1']:.3f}; test accuracy {r.test['accuracy']:.3f}; ONNX → {r.model_dir}")
    return 0


def cmd_export(args) -> int:
    from . import export
    fn = export.export_release_type if args.what == "release-type" else export.export_quotes
    print(json.dumps(fn(args.ref, store=args.store), ensure_ascii=False, indent=1))
    return 0


def _parser():
    p = argparse.ArgumentParser(prog="python -m training")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("release-type", "quotes", "all"):
        s = sub.add_parser(name)
        s.add_argument("--export", default=None, help="Label Studio export (default labeling/annotations/export.json)")
        s.add_argument("--store", default=None, help="MLflow store dir (default mlruns/; MLFLOW_TRACKING_URI overrides)")
        s.add_argument("--folds", type=_int, default=5)
        s.add_argument("--no-export", action="store_true", help="train and register only")
        s.set_defaults(func=cmd_train)
    t = sub.add_parser("transformer", help="fine-tune a local transformer checkpoint (optional path)")
    t.add_argument("--base-model", required=True, help="a local transformers checkpoint directory")
    t.add_argument("--export", default=None)
    t.add_argument("--store", default=None)
    t.add_argument("--folds", type=_int, default=5)
    t.add_argument("--epochs", type=_int, default=3)
    t.add_argument("--batch-size", type=_int, default=16)
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--max-length", type=_int, default=256)
    t.add_argument("--out", default=None, help="default models/release_type_transformer")
    t.set_defaults(func=cmd_transformer)
    e = sub.add_parser("export", help="export a registered model version or alias to models/")
    e.add_argument("what", choices=["release-type", "quotes"])
    e.add_argument("--ref", default="champion", help="version number or alias")
    e.add_argument("--store", default=None)
    e.set_defaults(func=cmd_export)
    from . import pyfunc, score  # the end-to-end MLflow model and batch scoring (issue 16)
    pyfunc.add_parser(sub)
    score.add_parser(sub)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
