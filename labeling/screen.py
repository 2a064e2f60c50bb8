"""The project's Data Manager tab as annotators need it: the one place that knows its columns and order.

Label Studio 1.23.2 lists a tab's columns in a fixed order (task id and some twenty task
columns first, the task's data fields last); a tab can only hide columns. So the tab `push`
keeps hides every column but the task id and the data fields an annotator picks a task by:
``uncertainty``, ``review`` (the reasons a release needs review, when the tasks carry them),
``type`` (the model's release type) and ``first_line`` (the release's first line). The data
fields show in the order the tasks list them (``tasks.make_task`` writes them in this order).
"""
from __future__ import annotations

import httpx

TAB_PREFIX = "kzclassify"  # push owns the tabs whose title starts with this
TITLES = {"uncertainty": "kzclassify: least confident first", "corpus": "kzclassify: corpus order"}
ORDERINGS = {"uncertainty": ["-tasks:data.uncertainty"], "corpus": ["tasks:id"]}
SHOWN = ("tasks:id", "tasks:data.uncertainty", "tasks:data.review", "tasks:data.type", "tasks:data.first_line")
WIDTHS = {"tasks:id": 70, "tasks:data.uncertainty": 120, "tasks:data.review": 220, "tasks:data.type": 110,
          "tasks:data.first_line": 640}


def column_ids(client, project_id: int) -> list[str]:
    """Every Data Manager column of the project, as tab settings name them ("tasks:data.text")."""
    w = client._client_wrapper  # the SDK has no call for /api/dm/columns; its base URL and auth header
    r = httpx.get(w.get_base_url().rstrip("/") + "/api/dm/columns", params={"project": project_id},
                  headers=w.get_headers(), timeout=30)
    r.raise_for_status()
    out = []
    for c in r.json().get("columns", []):
        if c.get("children"):  # the "data" group: its children are listed on their own
            continue
        prefix = f"{c.get('target', 'tasks')}:" + (f"{c['parent']}." if c.get("parent") else "")
        out.append(prefix + c["id"])
    return out


def tab_data(columns: list[str], order: str) -> dict:
    """The tab's settings: title, ordering, hidden columns (all but ``SHOWN``, in the list and in
    the labeling stream's list) and column widths."""
    hidden = [c for c in columns if c not in SHOWN]
    return {"title": TITLES[order], "ordering": ORDERINGS[order],
            "hiddenColumns": {"explore": hidden, "labeling": hidden},
            "columnsWidth": {c: w for c, w in WIDTHS.items() if c in columns}}


def annotator_tab(client, project_id: int, order: str = "corpus"):
    """Create or update the project's kzclassify tab (columns above; least confident first with
    ``order="uncertainty"``, else corpus order) and make it the first tab. "Label Tasks As
    Displayed" follows it; "Label All Tasks" follows the project's sampling (``client.push``)."""
    want = tab_data(column_ids(client, project_id), order)
    views = list(client.views.list(project=project_id))
    mine = [v for v in views if str((v.data or {}).get("title", "")).startswith(TAB_PREFIX)]
    if mine:
        v = mine[0]
        if order == "corpus":  # a push without --order keeps the order the lead chose
            want = {k: x for k, x in want.items() if k not in ("title", "ordering")}
        data = {**(v.data or {}), **want}
        if data != (v.data or {}):
            v = client.views.update(str(v.id), project=project_id, data=data)
    else:
        v = client.views.create(project=project_id, data=want)
    ids = [v.id] + [x.id for x in views if x.id != v.id]
    client.views.update_order(ids=ids, project=project_id)  # the first tab is the one a lead opens
    return v
