"""Push tasks to and pull exports from a running Label Studio server (label-studio-sdk)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from .io import atomic_write_json
from .schema import schema

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


def ensure_project(client, title: str = DEFAULT_TITLE):
    """Create the project, or update its config if it exists (same title)."""
    sc = schema()
    p = find_project(client, title)
    if p is None:
        return client.projects.create(title=title, label_config=sc.xml,
                                      description="kzclassify: release type and quote attribution")
    if (p.label_config or "").strip() != sc.xml.strip():
        client.projects.update(p.id, label_config=sc.xml)
    return p


def existing_release_ids(client, project_id: int) -> set[str]:
    ids = set()
    for t in client.tasks.list(project=project_id, fields="all"):
        data = t.data or {}
        if data.get("release_id"):
            ids.add(data["release_id"])
    return ids


def push(client, tasks: list[dict], title: str = DEFAULT_TITLE) -> tuple[int, int, int]:
    """Import tasks whose release id is not in the project yet.

    Returns (project id, imported, skipped). Re-running never duplicates tasks.
    """
    p = ensure_project(client, title)
    have = existing_release_ids(client, p.id)
    new = [t for t in tasks if t["data"]["release_id"] not in have]
    for i in range(0, len(new), 200):
        client.projects.import_tasks(p.id, request=new[i:i + 200])
    return p.id, len(new), len(tasks) - len(new)


def export_full(client, project_id: int, timeout: float = 120.0) -> list[dict]:
    """Full JSON export (annotations with relations and canonical names, predictions in full).

    The simple export gives prediction ids only; an export snapshot with
    ``serialization_options`` gives their results too.
    """
    base = client._client_wrapper.get_base_url()
    headers = client._client_wrapper.get_headers()
    body = {
        "title": "kzclassify pull",
        "serialization_options": {
            "drafts": {"only_id": True},
            "predictions": {"only_id": False},
            "annotations__completed_by": {"only_id": False},
            "include_annotation_history": False,
        },
    }
    with httpx.Client(base_url=base, headers=headers, timeout=60) as h:
        r = h.post(f"/api/projects/{project_id}/exports/", json=body)
        if r.status_code >= 400:
            raise ServerError(f"export snapshot failed: HTTP {r.status_code} {r.text[:200]}")
        pk = r.json()["id"]
        t0 = time.time()
        while True:
            s = h.get(f"/api/projects/{project_id}/exports/{pk}").json()
            if s.get("status") == "completed":
                break
            if s.get("status") == "failed" or time.time() - t0 > timeout:
                raise ServerError(f"export snapshot {pk} did not complete: {s.get('status')}")
            time.sleep(0.5)
        d = h.get(f"/api/projects/{project_id}/exports/{pk}/download", params={"exportType": "JSON"})
        if d.status_code >= 400:
            raise ServerError(f"export download failed: HTTP {d.status_code}")
        return d.json()


def pull(client, out: str | Path, title: str = DEFAULT_TITLE) -> int:
    """Write the project's full export to ``out`` atomically; returns the task count."""
    p = find_project(client, title)
    if p is None:
        raise ServerError(f"no project titled {title!r} on the server; run `push` first")
    data = export_full(client, p.id)
    atomic_write_json(out, data)
    return len(data)
