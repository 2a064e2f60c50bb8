"""Push tasks to and pull exports from a running Label Studio server (label-studio-sdk)."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections import Counter
from pathlib import Path

import httpx

from .io import atomic_write_json
from .schema import schema
from .screen import annotator_tab

DEFAULT_TITLE = "kzclassify releases"
TOKEN_ENV = "LABEL_STUDIO_API_KEY"


class ServerError(RuntimeError):
    """The Label Studio server is unreachable or refused a request."""


def _token(token: str | None) -> str:
    token = token or os.environ.get(TOKEN_ENV) or os.environ.get("LABEL_STUDIO_USER_TOKEN")
    if not token:
        raise ServerError(f"no API token: set {TOKEN_ENV} (Account & Settings → Access Token)")
    return token


def connect(url: str, token: str | None = None):
    """An SDK client for ``url``; ServerError with a clear message if the server is down."""
    from label_studio_sdk import LabelStudio

    try:
        r = httpx.get(url.rstrip("/") + "/health", timeout=5)
    except httpx.HTTPError as e:
        raise ServerError(f"Label Studio is not reachable at {url} ({type(e).__name__}); "
                          "start it with `label-studio start` or pass --url") from None
    if r.status_code != 200:
        raise ServerError(f"Label Studio at {url} answered /health with HTTP {r.status_code}")
    client = LabelStudio(base_url=url.rstrip("/"), api_key=_token(token))
    try:
        client.users.whoami()
    except Exception as e:
        raise ServerError(f"Label Studio at {url} refused the token: {e}") from None
    return client


def find_project(client, title: str):
    for p in client.projects.list():
        if p.title == title:
            return p
    return None


def instructions_html() -> str:
    """labeling/GUIDE.md rendered to HTML: the project's labeling instructions."""
    from markdown_it import MarkdownIt

    guide = Path(__file__).with_name("GUIDE.md").read_text(encoding="utf-8")
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(guide)


def ensure_project(client, title: str = DEFAULT_TITLE):
    """Create the project, or bring an existing one (same title) up to date.

    Up to date means: the config is labeling/config.xml and the labeling
    instructions are labeling/GUIDE.md, shown before the first task.
    """
    sc = schema()
    guide = instructions_html()
    p = find_project(client, title)
    if p is None:
        return client.projects.create(title=title, label_config=sc.xml, expert_instruction=guide,
                                      show_instruction=True,
                                      description="kzclassify: release type and quote attribution")
    changes = {}
    if (p.label_config or "").strip() != sc.xml.strip():
        changes["label_config"] = sc.xml
    if (p.expert_instruction or "") != guide or not p.show_instruction:
        changes.update(expert_instruction=guide, show_instruction=True)
    if changes:
        p = client.projects.update(p.id, **changes)
    return p


def existing_tasks(client, project_id: int) -> dict[str, object]:
    """release id -> task (with its data and predictions) for every task in the project."""
    out = {}
    for t in client.tasks.list(project=project_id, fields="all"):
        rid = (t.data or {}).get("release_id")
        if rid:
            out.setdefault(rid, t)
    return out


def existing_release_ids(client, project_id: int) -> set[str]:
    return set(existing_tasks(client, project_id))


def _model_versions(task) -> set[str]:
    return {(p if isinstance(p, dict) else p.dict()).get("model_version") for p in task.predictions or []}


def check_tasks(tasks) -> None:
    """ValueError naming the first task that `push` cannot use (a tasks file made by hand or truncated)."""
    if not isinstance(tasks, list):
        raise ValueError(f"tasks must be a list, got {type(tasks).__name__}")
    for i, t in enumerate(tasks):
        data = t.get("data") if isinstance(t, dict) else None
        if not (isinstance(data, dict) and isinstance(data.get("text"), str) and data.get("release_id")):
            raise ValueError(f"task #{i}: needs data.text and data.release_id (make tasks with "
                             "`python -m labeling tasks`)")
        preds = t.get("predictions", [])
        if not (isinstance(preds, list) and all(isinstance(x, dict) and isinstance(x.get("result"), list)
                                                for x in preds)):
            raise ValueError(f"task #{i}: predictions must be a list of objects with a result list")


def review_order(task: dict) -> tuple:
    """The labeling order of ``--order uncertainty``: tasks whose data has review reasons first, then the
    least confident first."""
    return (not task["data"].get("review"), -task["data"].get("uncertainty", 0.0))


def push(client, tasks: list[dict], title: str = DEFAULT_TITLE, order: str = "corpus") -> dict:
    """Import new tasks and refresh the existing ones; never duplicates a task.

    Tasks whose release id is new are imported. Tasks already in the project
    get the pushed ``uncertainty`` (their data is updated when it changed) and
    the pushed prediction: added when the task has none of that model version
    (the active-learning loop after a retraining), its score and result
    updated when they changed.

    ``order="uncertainty"`` imports the tasks that need review first (``review_order``) and orders
    labeling least confident first, the two ways
    Label Studio 1.23 allows: the project's sampling becomes "Uncertainty
    sampling" over the pushed model version (what "Label All Tasks" follows:
    lowest prediction score first; the score is 1 - uncertainty), and the Data
    Manager tab (``screen.annotator_tab``), first among the tabs, lists the tasks by
    ``uncertainty`` ("Label Tasks As Displayed" follows it). Every push keeps that
    tab's columns as annotators need them (``screen``).

    Returns counts: project, imported, existing, updated, predictions_added,
    predictions_updated, and view (the tab's id).
    """
    check_tasks(tasks)
    p = ensure_project(client, title)
    have = existing_tasks(client, p.id)
    new = [t for t in tasks if t["data"]["release_id"] not in have]
    if order == "uncertainty":
        new.sort(key=review_order)
    for i in range(0, len(new), 200):
        client.projects.import_tasks(p.id, request=new[i:i + 200])
    n = Counter()
    for t in tasks:
        old = have.get(t["data"]["release_id"])
        if old is None:
            continue
        data = dict(old.data or {})
        changed = {k: t["data"][k] for k in ("uncertainty", "review") if k in t["data"] and data.get(k) != t["data"][k]}
        if changed:
            client.tasks.update(str(old.id), data={**data, **changed})
            n["updated"] += 1
        stored = {}
        for x in old.predictions or []:
            x = x if isinstance(x, dict) else x.dict()
            stored.setdefault(x.get("model_version"), x)
        for pred in t.get("predictions") or []:
            same = stored.get(pred.get("model_version"))
            if same is None:
                client.predictions.create(task=old.id, result=pred["result"], score=pred.get("score"),
                                          model_version=pred.get("model_version"))
                n["predictions_added"] += 1
            elif same.get("score") != pred.get("score") or same.get("result") != pred["result"]:
                client.predictions.update(same["id"], result=pred["result"], score=pred.get("score"))
                n["predictions_updated"] += 1
    if order == "uncertainty":
        versions = Counter(x.get("model_version") for t in tasks for x in t.get("predictions") or [])
        settings = {"sampling": "Uncertainty sampling"}
        if versions:
            settings["model_version"] = versions.most_common(1)[0][0]
        client.projects.update(p.id, **settings)
    view = annotator_tab(client, p.id, order).id
    return {"project": p.id, "imported": len(new), "existing": len(tasks) - len(new), "view": view,
            **{k: n[k] for k in ("updated", "predictions_added", "predictions_updated")}}


def export_full(client, project_id: int, timeout: float = 120.0) -> list[dict]:
    """Full JSON export (annotations with relations and canonical names, predictions in full).

    The simple export gives prediction ids only; an export snapshot with
    ``serialization_options`` gives their results too.
    """
    from label_studio_sdk.types import SerializationOptionRequest, SerializationOptionsRequest

    opts = SerializationOptionsRequest(
        drafts=SerializationOptionRequest(only_id=True),
        predictions=SerializationOptionRequest(only_id=False),
        annotations_completed_by=SerializationOptionRequest(only_id=False),
        include_annotation_history=False,
    )
    snap = client.projects.exports.create(project_id, title="kzclassify pull", serialization_options=opts)
    t0 = time.time()
    while snap.status != "completed":
        if snap.status == "failed" or time.time() - t0 > timeout:
            raise ServerError(f"export snapshot {snap.id} did not complete: {snap.status}")
        time.sleep(0.5)
        snap = client.projects.exports.get(project_id, snap.id)
    raw = b"".join(client.projects.exports.download(project_id, snap.id, export_type="JSON"))
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ServerError(f"export snapshot {snap.id} is not JSON ({e})") from None


PSEUDONYM_DOMAIN = "kzclassify.local"  # annotator accounts in a committed export: annotator-…@kzclassify.local


def pseudonym(email: str) -> str:
    """The account name an annotator has in an export: kept if already a pseudonym, else derived from the e-mail.

    Deterministic (the same person keeps one pseudonym across pulls); with ``KZ_PSEUDONYM_KEY`` set
    it is an HMAC, so nobody holding a list of e-mail addresses can tell who is who.
    """
    if email.endswith("@" + PSEUDONYM_DOMAIN):
        return email
    key = os.environ.get("KZ_PSEUDONYM_KEY", "").encode()
    digest = hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:10]
    return f"annotator-{digest}@{PSEUDONYM_DOMAIN}"


def pseudonymise(export: list[dict]) -> list[dict]:
    """The export with every annotator (``completed_by``) reduced to a pseudonymous account; in place."""
    for task in export:
        for a in task.get("annotations") or []:
            who = a.get("completed_by")
            if isinstance(who, dict) and isinstance(who.get("email"), str) and \
                    not who["email"].endswith("@" + PSEUDONYM_DOMAIN):
                a["completed_by"] = {"id": who.get("id"), "email": pseudonym(who["email"]),
                                     "first_name": "", "last_name": ""}
    return export


def pull(client, out: str | Path, title: str = DEFAULT_TITLE, force: bool = False) -> dict:
    """Write the project's full export to ``out``: atomically, fsynced, the previous file kept as ``.prev``.

    Refuses (ValueError, nothing written) to replace a file that holds more annotated tasks than the
    project has, unless ``force``: a pull from a new or half-restored server never wipes a dataset.
    Annotators appear under pseudonymous accounts (:func:`pseudonym`). Returns tasks, annotated,
    previous (annotated tasks of the replaced file, or None) and kept (the ``.prev`` path or None).
    """
    from .validate import annotated_tasks
    p = find_project(client, title)
    if p is None:
        raise ServerError(f"no project titled {title!r} on the server; run `push` first")
    data = pseudonymise(export_full(client, p.id))
    out, n, before = Path(out), annotated_tasks(data), None
    if out.is_file():
        try:
            before = annotated_tasks(json.loads(out.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            before = None  # unreadable: replaced, and kept as .prev
        if before is not None and n < before and not force:
            raise ValueError(f"refusing to write {n} annotated tasks over {out}, which holds {before}: "
                             "the project has fewer annotations than the file (pass --force to replace it; "
                             f"the old file would be kept as {out.name}.prev)")
    kept = atomic_write_json(out, data, keep_previous=True)
    return {"tasks": len(data), "annotated": n, "previous": before, "kept": kept}
