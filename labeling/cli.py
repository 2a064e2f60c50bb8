"""``python -m labeling``: a thin CLI over the labeling functions (tasks, push, pull, validate, submit, reports).

Exit codes: 0 ok, 1 validation problems, 2 usage or input error, 3 server error.
"""
from __future__ import annotations

import argparse
import json
import sys

from kzclassify.corpus import CorpusError
from paths import CORPUS, EXPORT, PULLED, ROOT

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_PROJECT = "kzclassify releases"
PERSONS_ARG = dict(choices=["quotes", "all"], default="quotes",
                   help="PERSON regions in the pre-annotations: the persons who speak or are named in the quotes "
                        "(default) or every person of the release")


def cmd_tasks(args) -> int:
    from .tasks import make_tasks, write_tasks
    tasks = make_tasks(args.paths, args.source, args.format, args.persons)
    write_tasks(tasks, args.out)
    print(f"{len(tasks)} tasks → {args.out}")
    return 0


def cmd_push(args) -> int:
    from .client import check_tasks, connect, push
    from .io import load_json
    from .tasks import make_tasks
    tasks = load_json(args.tasks) if args.tasks else make_tasks(args.paths, args.source, persons=args.persons)
    check_tasks(tasks)  # a bad tasks file is a usage error, before the server is asked
    r = push(connect(args.url), tasks, args.project, args.order)
    print(f"project {r['project']}: imported {r['imported']} tasks, {r['existing']} already there "
          f"({r['updated']} with a new uncertainty, {r['predictions_added']} predictions added, "
          f"{r['predictions_updated']} updated)"
          + ("; labeling order: least confident first (uncertainty sampling; "
             f"Data Manager tab {r['view']} sorted by uncertainty)" if args.order == "uncertainty"
             else f"; Data Manager tab {r['view']}"))
    return 0


def cmd_pull(args) -> int:
    from .client import connect, pull
    r = pull(connect(args.url), args.out, args.project, args.force)
    print(f"{r['tasks']} tasks ({r['annotated']} annotated) → {args.out}"
          + (f"; the previous file ({r['previous']} annotated) is kept as {r['kept']}" if r["kept"] else ""))
    return 0


def cmd_restore(args) -> int:
    from .client import connect
    from .io import load_json
    from .restore import restore
    r = restore(connect(args.url), load_json(args.export), args.project)
    print(f"project {r['project']}: {r['tasks']} tasks, {r['predictions']} predictions, {r['annotations']} annotations "
          f"under {r['annotators']} annotator accounts")
    return 0


def cmd_validate(args) -> int:
    from .io import load_json
    from .validate import validate_export
    rep = validate_export(load_json(args.export), require_annotations=not args.allow_unannotated)
    for p in rep.problems:
        print(p)
    n_quotes = sum(len(a.quotes) for a in rep.releases.values())
    print(f"{rep.tasks} tasks, {len(rep.releases)} annotated releases, {n_quotes} quotes, "
          f"{len(rep.problems)} problems")
    return 0 if rep.ok else 1


def cmd_submit(args) -> int:
    from .client import ServerError, connect, find_project
    from .submit import load_readings, submit
    client = connect(args.url)
    project = find_project(client, args.project)
    if project is None:
        raise ServerError(f"no project titled {args.project!r} on the server; run `push` first")
    created, problems = submit(client, project.id, load_readings(args.readings), args.annotator, args.ground_truth)
    for p in problems:
        print(p)
    print(f"{created} annotations submitted, {len(problems)} problems")
    return 1 if problems else 0


def cmd_report(args) -> int:
    from .agreement import agreement, dataset_stats, prediction_report
    from .io import load_json
    fn = {"stats": dataset_stats, "agreement": agreement, "prediff": prediction_report}[args.cmd]
    print(json.dumps(fn(load_json(args.export)), ensure_ascii=False, indent=1))
    return 0


def cmd_gold(args) -> int:
    """A valid export → the gold JSONL of ``kzclassify evaluate`` (kzclassify/gold.py)."""
    from kzclassify.gold import gold_line
    from .io import load_json
    from .validate import validate_export
    rep = validate_export(load_json(args.export), require_annotations=False)
    for p in rep.problems:
        print(p, file=sys.stderr)
    if not rep.ok:
        return 1
    lines = [json.dumps(gold_line(rep.texts[rid], ann.release_type,
                                  [(q.start, q.end, q.speaker) for q in ann.quotes], rid), ensure_ascii=False)
             for rid, ann in sorted(rep.releases.items())]
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        out.write("".join(line + "\n" for line in lines))
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"{len(lines)} releases", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m labeling", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tasks", help="corpus → Label Studio tasks JSON with pre-annotations")
    t.add_argument("paths", nargs="*", default=[str(CORPUS)])
    t.add_argument("--out", "-o", required=True)
    t.add_argument("--source", choices=["model", "rules"], default="model",
                   help="pre-annotate with the shipped model (falls back to rules) or rules only")
    t.add_argument("--format", choices=["auto", "corpus", "text"], default="auto")
    t.add_argument("--persons", **PERSONS_ARG)
    t.set_defaults(func=cmd_tasks)
    for name, help_, func in (("push", "create/update the project and import tasks (idempotent)", cmd_push),
                              ("pull", "export the full JSON (to out/export.json unless --out)", cmd_pull)):
        s = sub.add_parser(name, help=help_)
        s.add_argument("--url", default=DEFAULT_URL)
        s.add_argument("--project", default=DEFAULT_PROJECT, help="project title")
        s.set_defaults(func=func)
        if name == "push":
            s.add_argument("paths", nargs="*", default=[str(CORPUS)])
            s.add_argument("--tasks", help="a tasks JSON made by `tasks` (instead of paths)")
            s.add_argument("--source", choices=["model", "rules"], default="model")
            s.add_argument("--persons", **PERSONS_ARG)
            s.add_argument("--order", choices=["corpus", "uncertainty"], default="corpus",
                           help="uncertainty: import least confident first and keep a Data Manager tab sorted that way "
                                "(also on a project that already has the tasks)")
        else:
            s.add_argument("--out", "-o", default=str(PULLED),
                           help=f"default {PULLED.relative_to(ROOT)}; the committed dataset is {EXPORT.relative_to(ROOT)}")
            s.add_argument("--force", action="store_true",
                           help="replace a file that holds more annotated tasks than the project has")
    r = sub.add_parser("restore", help="load an export (default: the committed dataset) into an empty project, "
                                       "each annotation under its annotator's account")
    r.add_argument("export", nargs="?", default=str(EXPORT))
    r.add_argument("--url", default=DEFAULT_URL)
    r.add_argument("--project", default=DEFAULT_PROJECT, help="project title (created; must hold no tasks)")
    r.set_defaults(func=cmd_restore)
    for name, help_ in (("stats", "counts per release type, quotes, distinct speakers"),
                        ("agreement", "inter-annotator agreement on doubly annotated tasks"),
                        ("prediff", "how far final annotations are from their pre-annotations")):
        a = sub.add_parser(name, help=help_)
        a.add_argument("export", nargs="?", default=str(EXPORT))
        a.set_defaults(func=cmd_report)
    sb = sub.add_parser("submit", help="submit readings (JSON Lines, see labeling/submit.py) as annotations")
    sb.add_argument("readings")
    sb.add_argument("--annotator", required=True, help="the annotator's e-mail (a Label Studio user, created if new)")
    sb.add_argument("--ground-truth", action="store_true", help="mark as the adjudicated annotation")
    sb.add_argument("--url", default=DEFAULT_URL)
    sb.add_argument("--project", default=DEFAULT_PROJECT)
    sb.set_defaults(func=cmd_submit)
    g = sub.add_parser("gold", help="an export → the gold JSONL `kzclassify evaluate` scores the models on")
    g.add_argument("export", nargs="?", default=str(EXPORT))
    g.add_argument("--output", "-o", default=None, help="the JSONL file (default: stdout)")
    g.set_defaults(func=cmd_gold)
    v = sub.add_parser("validate", help="check an export against the config and texts")
    v.add_argument("export", nargs="?", default=str(EXPORT))
    v.add_argument("--allow-unannotated", action="store_true",
                   help="a project in progress: tasks without an annotation are not problems")
    v.set_defaults(func=cmd_validate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (CorpusError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # server errors carry their own message
        from label_studio_sdk.core.api_error import ApiError

        from .client import ServerError
        if isinstance(e, ServerError):
            print(f"error: {e}", file=sys.stderr)
            return 3
        if isinstance(e, ApiError):
            body = e.body.get("validation_errors") or e.body.get("detail") if isinstance(e.body, dict) else e.body
            print(f"error: Label Studio refused the request (HTTP {e.status_code}): {body}", file=sys.stderr)
            return 3
        raise
