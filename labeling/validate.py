"""Check a Label Studio export against the config and the texts."""
from __future__ import annotations

from dataclasses import dataclass, field

from kzclassify._text import fold_whitespace, release_id

from .ls_format import Annotation, ResultError, from_results
from .schema import Schema, schema

# The one relation of the config: QUOTE said_by SPEAKER. The config declares no relation
# label (Label Studio 1.23 cannot apply one by default), so a relation between a QUOTE and
# a SPEAKER means said_by whichever way it was drawn; exports made with the earlier
# config carry the label "said_by", which still means the same.
SAID_BY = "said_by"


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
    anns = task.get("annotations")
    anns = [a for a in anns if isinstance(a, dict) and not a.get("was_cancelled")] if isinstance(anns, list) else []
    if not anns:
        return None, "no submitted annotation"
    if len(anns) == 1:
        return anns[0], None
    gt = [a for a in anns if a.get("ground_truth")]
    if len(gt) != 1:
        return None, f"{len(anns)} annotations and {len(gt)} marked ground_truth; adjudicate to exactly one"
    return gt[0], None


def annotated_tasks(export) -> int:
    """How many tasks of an export carry at least one submitted (not cancelled) annotation."""
    if not isinstance(export, list):
        return 0
    return sum(1 for t in export if isinstance(t, dict) and any(
        isinstance(a, dict) and not a.get("was_cancelled") for a in t.get("annotations") or []))


def _short(x, n: int = 40) -> str:
    return repr(x)[:n]


def check_results(results, text: str, sc: Schema | None = None) -> tuple[list, list[str]]:
    """Structural checks of raw Label Studio result items that :func:`from_results` relies on.

    Returns (items fit to decode, problems). Items of the wrong shape are reported
    and left out, so decoding never raises anything but ResultError; relations
    drawn from a SPEAKER to a QUOTE are turned around (the link means the same).
    """
    sc = sc or schema()
    if not isinstance(results, list):
        return [], [f"result is {type(results).__name__}, expected a list"]
    problems: list[str] = []
    items: list[dict] = []
    spans: dict[str, tuple[str, int, int]] = {}  # region id -> (label, start, end)
    rels: list[dict] = []
    canon: list[dict] = []
    for item in results:
        if not isinstance(item, dict):
            problems.append(f"result item is not an object: {_short(item, 60)}")
            continue
        rid = item.get("id")
        if item.get("type") == "relation":
            f, t = item.get("from_id"), item.get("to_id")
            if not (isinstance(f, str) and isinstance(t, str)):
                problems.append(f"relation from_id/to_id must be region ids, got {_short(f)} -> {_short(t)}")
                continue
            rels.append(item)
            continue
        if rid is not None and not isinstance(rid, str):
            problems.append(f"result item id must be a string, got {_short(rid)}")
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            problems.append(f"result item {_short(rid)} ({item.get('type')}): value is "
                            f"{type(value).__name__}, expected an object")
            continue
        if item.get("type") == "labels" and item.get("from_name") == sc.span_name:
            s, e, labels, said = value.get("start"), value.get("end"), value.get("labels"), value.get("text")
            if not isinstance(rid, str) or not rid:
                problems.append(f"span without a region id: {_short(value, 60)}")
                continue
            if rid in spans:
                problems.append(f"region id {rid} is used by two spans")
                continue
            if not isinstance(labels, list) or len(labels) != 1 or labels[0] not in sc.span_labels:
                problems.append(f"span {rid}: unknown labels {_short(labels)}")
                continue
            if not (isinstance(s, int) and isinstance(e, int) and not isinstance(s, bool)
                    and not isinstance(e, bool) and 0 <= s < e <= len(text)):
                problems.append(f"span {rid}: bad offsets {_short(s)}..{_short(e)} (text length {len(text)})")
                continue
            if not isinstance(said, str):
                problems.append(f"span {rid}: no value.text to check its offsets {s}..{e} against "
                                f"(the text there is {text[s:e][:40]!r})")
                continue
            spans[rid] = (labels[0], s, e)
        elif item.get("type") == "textarea":
            texts = value.get("text")
            if not (isinstance(texts, list) and all(isinstance(x, str) for x in texts)):
                problems.append(f"text field {item.get('from_name')} of {_short(rid)}: text must be a list "
                                f"of strings, got {_short(texts)}")
                continue
            if item.get("from_name") == sc.canonical_name:
                canon.append(item)
        elif item.get("type") == "choices":
            choices = value.get("choices")
            if not (isinstance(choices, list) and all(isinstance(x, str) for x in choices)):
                problems.append(f"choices of {_short(rid)}: must be a list of strings, got {_short(choices)}")
                continue
        items.append(item)
    seen: dict[tuple[int, int], str] = {}
    for rid, (label, s, e) in spans.items():
        if label == "QUOTE":
            if (s, e) in seen:
                problems.append(f"QUOTE {rid} {text[s:e][:40]!r} duplicates QUOTE {seen[(s, e)]} (same span)")
            seen.setdefault((s, e), rid)
    for c in canon:
        if spans.get(c.get("id"), ("",))[0] not in ("SPEAKER", "PERSON"):
            problems.append(f"canonical name {_short(c['value'].get('text'))} belongs to {_short(c.get('id'))}, "
                            "which is not a SPEAKER or PERSON span")
    pairs, linked = set(), set()
    allowed = set(sc.relation_labels) or {SAID_BY}
    for r in rels:
        f, t = r["from_id"], r["to_id"]
        labels = r.get("labels") or []
        if not isinstance(labels, list) or any(x not in allowed for x in labels) or len(labels) > 1:
            problems.append(f"relation {f}->{t}: labels {_short(labels)}; the only relation is {SAID_BY}")
            continue
        if sc.relation_labels and not labels:
            problems.append(f"relation {f}->{t} has no label; choose {sc.relation_labels[0]}")
            continue
        if f in spans and t in spans and spans[f][0] == "SPEAKER" and spans[t][0] == "QUOTE":
            f, t = t, f  # drawn from the speaker to the quote: the same link
            r = {**r, "from_id": f, "to_id": t, "direction": "right"}
        if (f, t) in pairs:
            problems.append(f"relation {f}->{t} is there twice")
            continue
        pairs.add((f, t))
        linked.update((f, t))
        items.append(r)
    for rid, (label, s, e) in spans.items():
        if label == "SPEAKER" and rid not in linked:
            problems.append(f"SPEAKER {rid} {text[s:e][:40]!r} is linked to no QUOTE")
    return items, problems


def decode(results, text: str, sc: Schema | None = None) -> Annotation:
    """Checked :func:`from_results`: raises ResultError listing every problem, never anything else."""
    items, problems = check_results(results, text, sc)
    if not isinstance(results, list):
        raise ResultError(problems)
    try:
        ann = from_results(items, text, sc)
    except ResultError as e:
        problems += [p for p in e.problems if p not in problems]
        ann = None
    if problems:
        raise ResultError(problems)
    return ann


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
            rep.releases[rid] = decode(ann.get("result"), text)
            rep.texts[rid] = text
        except ResultError as e:
            rep.problems.extend(Problem(tid, p) for p in e.problems)
    return rep
