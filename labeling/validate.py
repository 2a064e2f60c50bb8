"""Check a Label Studio export against the config and the texts."""
from __future__ import annotations

from dataclasses import dataclass, field

from kzclassify._text import fold_whitespace, release_id

from .ls_format import Annotation, ResultError, from_results


@dataclass(frozen=True)
class Problem:
    task: str  # task id (Label Studio) or position
    message: str

    def __str__(self) -> str:
        return f"task {self.task}: {self.message}"


@dataclass
class Report:
    releases: dict[str, Annotation] = field(default_factory=dict)  # release id -> final annotation
    texts: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    tasks: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def final_annotation(task: dict) -> tuple[dict | None, str | None]:
    """The annotation that counts for a task, or (None, reason).

    One submitted (not cancelled) annotation counts as final; with several,
    exactly one must be marked ``ground_truth`` (the adjudicated one).
    """
    anns = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if not anns:
        return None, "no submitted annotation"
    if len(anns) == 1:
        return anns[0], None
    gt = [a for a in anns if a.get("ground_truth")]
    if len(gt) != 1:
        return None, f"{len(anns)} annotations and {len(gt)} marked ground_truth; adjudicate to exactly one"
    return gt[0], None


def validate_export(export, require_annotations: bool = True) -> Report:
    """Validate every task; nothing is dropped silently: each issue becomes a Problem."""
    rep = Report()
    if not isinstance(export, list):
        rep.problems.append(Problem("-", f"export is a {type(export).__name__}, expected a list of tasks"))
        return rep
    seen: dict[str, str] = {}
    for pos, task in enumerate(export):
        rep.tasks += 1
        tid = str(task.get("id", f"#{pos}")) if isinstance(task, dict) else f"#{pos}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            rep.problems.append(Problem(tid, "task has no data object"))
            continue
        text = task["data"].get("text")
        if not isinstance(text, str) or not fold_whitespace(text):
            rep.problems.append(Problem(tid, "task has no text"))
            continue
        rid = release_id(text)
        given = task["data"].get("release_id")
        if given and given != rid:
            rep.problems.append(Problem(tid, f"release_id {given} does not match its text (sha1 gives {rid})"))
        if rid in seen:
            rep.problems.append(Problem(tid, f"duplicate of task {seen[rid]} (same release {rid})"))
            continue
        seen[rid] = tid
        ann, why = final_annotation(task)
        if ann is None:
            if require_annotations or why != "no submitted annotation":
                rep.problems.append(Problem(tid, why))
            continue
        try:
            rep.releases[rid] = from_results(ann.get("result"), text)
            rep.texts[rid] = text
        except ResultError as e:
            rep.problems.extend(Problem(tid, p) for p in e.problems)
    return rep
