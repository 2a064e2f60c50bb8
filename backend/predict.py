"""Label Studio tasks → validated texts → kzclassify predictions in the project's result format."""
from __future__ import annotations

import json
import time

from kzclassify import MAX_CHARS, Analyzer
from labeling.ls_format import to_prediction
from labeling.schema import Schema, parse_config, schema as project_schema

from .limits import Limits


class RequestError(ValueError):
    """A client's mistake: answered with ``status`` and a JSON ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def task_ref(task_id) -> str:
    """A task id for an error message: JSON-quoted, ASCII-only (a lone surrogate cannot break the answer), short."""
    ref = json.dumps(task_id, ensure_ascii=True, default=repr)
    return ref if len(ref) <= 80 else ref[:77] + "..."


def schema_from(xml) -> Schema:
    """The project's label config (``None``/empty → labeling/config.xml); 400 for a non-string, 422 if unusable."""
    if xml is None or xml == "":
        return project_schema()
    if not isinstance(xml, str):
        raise RequestError(400, f"the label config must be a string of XML, not {type(xml).__name__}")
    try:
        return parse_config(xml)
    except Exception as e:  # ParseError, ValueError, or anything else a hostile XML provokes
        raise RequestError(422, f"unknown project config: {type(e).__name__}: {e}") from None


def task_text(task, index: int, sc: Schema) -> str:
    """The release text of one task, checked: a string, valid Unicode, within kzclassify's length limit."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise RequestError(400, f"task #{index}: each task needs a 'data' object")
    ref = task_ref(task.get("id"))
    data = task["data"]
    text = data.get(sc.text_name, data.get("text"))
    if not isinstance(text, str):
        raise RequestError(400, f"task {ref}: data.{sc.text_name} must be a string")
    if len(text) > MAX_CHARS:
        raise RequestError(413, f"task {ref}: text has {len(text):,} characters; the limit for one release "
                                f"is {MAX_CHARS:,}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise RequestError(400, f"task {ref}: text is not valid Unicode (lone surrogate "
                                f"{ascii(text[e.start])} at offset {e.start})") from None
    return text


def check_batch(texts: list[str], limits: Limits) -> None:
    """RequestError 413 when a /predict has more tasks or characters than ``limits`` allow, naming the flag."""
    if len(texts) > limits.max_tasks:
        raise RequestError(413, f"{len(texts):,} tasks in one request; the limit is {limits.max_tasks:,} "
                                "(--max-tasks): send fewer tasks per request")
    total = sum(map(len, texts))
    if total > limits.max_chars:
        raise RequestError(413, f"{total:,} characters of text in one request; the limit is "
                                f"{limits.max_chars:,} (--max-chars): send fewer tasks per request")


def predict(tasks, sc: Schema, analyzer: Analyzer, limits: Limits | None = None) -> list[dict]:
    """One prediction per task, in order (``labeling.ls_format.to_prediction``: score = the calibrated
    confidence, as ``labeling push`` writes it, with ``runner_up``, ``margin``, ``needs_review`` and
    ``review``). Every text is checked, and the batch against ``limits``, before
    any is analysed; past ``limits.deadline`` seconds the request stops between two tasks (503).

    Raises RequestError for a bad task (naming it) or a request over a limit, kzclassify.ModelError
    when a model fails to load.
    """
    limits = limits or Limits()
    started = time.monotonic()
    if not isinstance(tasks, list):
        raise RequestError(400, "'tasks' must be a list")
    if len(tasks) > limits.max_tasks:  # before looking at each task: 200,000 tiny tasks are refused at once
        check_batch(tasks, limits)
    texts = [task_text(t, i, sc) for i, t in enumerate(tasks)]
    check_batch(texts, limits)
    version = analyzer.model_version  # one string, from the manifests, as `labeling push` writes it
    out = []
    for done, (task, text) in enumerate(zip(tasks, texts)):
        if time.monotonic() - started > limits.deadline:
            raise RequestError(503, f"the request ran past its deadline of {limits.deadline:g} s (--deadline) "
                                    f"after {done} of {len(tasks)} tasks: send fewer tasks per request")
        try:
            a = analyzer.analyze(text)
        except (ValueError, TypeError) as e:  # kzclassify's documented answer to input it refuses
            raise RequestError(422, f"task {task_ref(task.get('id'))}: {e}") from None
        out.append(to_prediction(a, version, sc))
    return out
