"""Load an export (the committed dataset by default) into an empty Label Studio project, as it was annotated.

Each task comes back with its data and its predictions; each annotation is created through the API
under its annotator's account (created if new: the pseudonymous ``annotator-…@kzclassify.local``
accounts of the export), oldest first, with its ``ground_truth`` mark, ``lead_time`` and the
prediction it started from. So `pull` on the restored project gives the same annotations by the same
annotators, and a correction submitted there is one more annotation, not a rewrite.
"""
from __future__ import annotations

from .client import ServerError, check_tasks, ensure_project, existing_tasks
from .submit import ensure_user


def _prediction(p: dict) -> dict:
    return {k: p[k] for k in ("result", "score", "model_version") if p.get(k) is not None}


def restore(client, export: list[dict], title: str) -> dict:
    """Restore ``export`` into the project titled ``title`` (created if missing; it must hold no task).

    Returns counts: project, tasks, predictions, annotations, annotators. ValueError for an export that
    is not a list of tasks; ServerError when the project already has tasks (nothing is changed then).
    """
    tasks = [{"data": t.get("data"), "predictions": [_prediction(p) for p in t.get("predictions") or []
                                                      if isinstance(p, dict) and isinstance(p.get("result"), list)]}
             for t in export if isinstance(t, dict)] if isinstance(export, list) else None
    if not tasks:
        raise ValueError("the export holds no tasks (expected a Label Studio JSON export: a list of tasks)")
    check_tasks(tasks)
    p = ensure_project(client, title)
    if existing_tasks(client, p.id):
        raise ServerError(f"project {title!r} already has tasks: restore loads into an empty project "
                          "(choose a new --project title)")
    for i in range(0, len(tasks), 200):
        client.projects.import_tasks(p.id, request=tasks[i:i + 200])
    have = existing_tasks(client, p.id)
    users: dict[str, int] = {}
    n_ann = n_pred = 0
    for t in export:
        new = have[t["data"]["release_id"]]
        old_preds = sorted((x for x in t.get("predictions") or [] if isinstance(x, dict)), key=lambda x: x.get("id", 0))
        new_preds = sorted((x if isinstance(x, dict) else x.dict() for x in new.predictions or []),
                           key=lambda x: x["id"])
        pred_id = {o.get("id"): n["id"] for o, n in zip(old_preds, new_preds)}
        n_pred += len(new_preds)
        for a in sorted(t.get("annotations") or [], key=lambda a: (a.get("created_at") or "", a.get("id", 0))):
            who = a.get("completed_by")
            email = who.get("email") if isinstance(who, dict) else None
            if not email:
                raise ValueError(f"task {t.get('id')}: annotation {a.get('id')} has no annotator e-mail in "
                                 "completed_by (export with annotations_completed_by in full, as `pull` does)")
            if email not in users:
                users[email] = ensure_user(client, email)
            client.annotations.create(new.id, result=a.get("result") or [], completed_by=users[email], project=p.id,
                                      parent_prediction=pred_id.get(a.get("parent_prediction")),
                                      ground_truth=bool(a.get("ground_truth")),
                                      was_cancelled=bool(a.get("was_cancelled")),
                                      lead_time=float(a.get("lead_time") or 0.0))
            n_ann += 1
    return {"project": p.id, "tasks": len(have), "predictions": n_pred, "annotations": n_ann,
            "annotators": len(users)}
