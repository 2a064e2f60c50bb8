"""``python -m training``: release-type, quotes, all (train → register → export), export, transformer."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from paths import EXPORT, MODELS


def _int(v: str) -> int:
    return int(float(v))  # MLflow passes float parameters as "5.0"


def cmd_train(args) -> int:
    """``all``: one full retraining (every candidate) through the gate, then models/ from the champion.
    ``release-type``/``quotes``: train, log and register that part model (no alias: promote a generation)."""
    from . import quotes, release_type, report
    if args.cmd == "all":
        return _retrain(args, project=None, full=True)
    if args.cmd == "release-type":
        r = release_type.train(args.export, args.store, args.folds)
        print(report.release_type_tables(r))
    else:
        r = quotes.train(args.export, args.store, args.folds)
        print(report.quotes_tables(r))
    print(f"registered {r.model_name} v{r.version} ({r.manifest['model_version']}, no alias): "
          "`python -m training retrain` trains both models and gates them")
    return 0


def _retrain(args, project, full: bool) -> int:
    from . import registry
    from .retrain import retrain
    committed = Path(args.export) if getattr(args, "export", None) else EXPORT
    models_dir = Path(getattr(args, "models_dir", None) or MODELS)
    out = retrain(project, store=args.store, committed=committed, models_dir=models_dir, folds=args.folds,
                  repeats=getattr(args, "repeats", None), full=full, recipe=getattr(args, "recipe", None))
    print(f"run {out.run_id}: {out.decision}")
    if full and not args.no_export:
        if not out.promoted:  # models/ is the champion's, whatever was there
            registry.restore_models(registry.CHAMPION, args.store, MODELS)
        from . import pyfunc
        pyfunc.cli(args)
    print(f"serving {registry_version_line(models_dir)}")
    return 0


def registry_version_line(models_dir: Path) -> str:
    from .retrain import _served_version
    return f"{_served_version(models_dir)} from {models_dir}"


def cmd_retrain(args) -> int:
    from labeling.io import load_json
    project = load_json(args.project_export) if args.project_export else None
    return _retrain(args, project, full=args.full)


def cmd_promote(args) -> int:
    from . import registry
    models_dir = Path(args.models_dir or MODELS)
    moved = registry.promote(args.version, args.store, models_dir) if args.cmd == "promote" else \
        registry.rollback(args.store, models_dir)
    print(moved.line())
    print(f"serving {registry_version_line(models_dir)}")
    return 0


def cmd_transformer(args) -> int:
    from . import transformer
    r = transformer.train(args.base_model, args.export, args.store, args.folds, args.epochs, args.batch_size,
                          args.lr, args.max_length, out=Path(args.out) if args.out else None)
    print(f"transformer run {r.run_id} v{r.version}: CV accuracy {r.cv['accuracy']:.3f}, "
          f"macro-F1 {r.cv['macro_f1']:.3f}; test accuracy {r.test['accuracy']:.3f}; ONNX → {r.model_dir}")
    return 0


def cmd_export(args) -> int:
    """Restore one registered version's model folder from its run's artifacts (byte for byte)."""
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
        s.add_argument("--no-export", action="store_true", help="(all) leave models/ and the pyfunc alone")
        s.set_defaults(func=cmd_train)
    r = sub.add_parser("retrain", help="merge the committed data with a project export, train both models as "
                                       "the challenger, promote when the gate says not worse")
    r.add_argument("--project-export", default=None, help="a Label Studio project export (JSON list of tasks)")
    r.add_argument("--export", default=None, help="the committed dataset (default labeling/annotations/export.json)")
    r.add_argument("--store", default=None, help="MLflow store dir (default mlruns/; MLFLOW_TRACKING_URI overrides)")
    r.add_argument("--folds", type=_int, default=5)
    r.add_argument("--repeats", type=_int, default=None, help="CV repeats (seeds; default 3)")
    r.add_argument("--full", action="store_true", help="compare every release-type candidate (as `all`)")
    r.add_argument("--recipe", default=None, help="the release-type candidate to train (default: the champion's)")
    r.add_argument("--models-dir", default=None, help="the served model folder (default models/)")
    r.set_defaults(func=cmd_retrain, no_export=True)
    pr = sub.add_parser("promote", help="make a registered generation the champion of every model; models/ from it")
    pr.add_argument("version", help="a generation (7 or g7), a model version (g7-…) or an alias (challenger)")
    pr.add_argument("--store", default=None)
    pr.add_argument("--models-dir", default=None, help="the served model folder (default models/)")
    pr.set_defaults(func=cmd_promote)
    rb = sub.add_parser("rollback", help="back to the previous champion (every alias, models/)")
    rb.add_argument("--store", default=None)
    rb.add_argument("--models-dir", default=None, help="the served model folder (default models/)")
    rb.set_defaults(func=cmd_promote)
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
    e = sub.add_parser("export", help="restore a registered model version or alias into models/ (byte for byte)")
    e.add_argument("what", choices=["release-type", "quotes"])
    e.add_argument("--ref", default="champion", help="version number or alias")
    e.add_argument("--store", default=None)
    e.set_defaults(func=cmd_export)
    from . import pyfunc, score, simulate  # the end-to-end MLflow model and batch scoring (issue 16)
    pyfunc.add_parser(sub)
    score.add_parser(sub)
    simulate.add_parser(sub)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # MLflow's own errors (a store that cannot be opened, …): one line, no traceback
        if not type(e).__module__.startswith("mlflow"):
            raise
        print(f"error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
        return 2
