"""The typed results of kzclassify: one record for an analysed release, from inference to Label Studio."""
from __future__ import annotations

from dataclasses import asdict, dataclass


def _record(obj) -> dict:
    """A result as a JSON-ready dict (reasons as a list)."""
    return {**asdict(obj), "reasons": list(obj.reasons)}


@dataclass(frozen=True)
class ReleaseType:
    """The release type of a text: best ``label``, its probability ``score``,
    ``scores`` for every label, the ``runner_up`` label and the ``margin``
    ``score - scores[runner_up]`` (small margin: a person should look).
    ``label`` and ``runner_up`` are ``None`` for an empty text. With a calibrated model the scores are
    probabilities that the label is right; ``needs_review`` and its ``reasons`` say whether a person
    should check it (docs/scores.md: what the flag promises)."""

    label: str | None
    score: float
    scores: dict[str, float]
    runner_up: str | None = None
    margin: float = 0.0
    needs_review: bool = False
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_scores(cls, scores: dict[str, float]) -> "ReleaseType":
        """Best label, runner-up and margin from a label → probability mapping."""
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if not ranked:
            return cls(None, 0.0, {})
        (best, p1), (second, p2) = ranked[0], ranked[1] if len(ranked) > 1 else (None, 0.0)
        return cls(best, p1, dict(scores), second, p1 - p2)

    def to_dict(self) -> dict:
        return _record(self)


@dataclass(frozen=True)
class Quote:
    """A direct quote: ``text == source[start:end]`` for the string the caller passed.

    ``speaker`` is the canonical person (nominative, fullest name) or a role when
    no person is named; ``speaker_mention`` the words that attribute the quote
    (``mention_start``/``mention_end``, -1 when none); ``resolved_by`` how the
    mention became the speaker; ``score`` the calibrated probability that the speaker is right;
    ``needs_review`` and ``reasons`` whether a person should check the speaker.
    """

    text: str
    start: int
    end: int
    kind: str
    cue: str
    speaker: str
    speaker_mention: str
    mention_start: int
    mention_end: int
    resolved_by: str
    score: float
    person: int = -1  # index into Analysis.people; -1 when the speaker is a role or nobody
    needs_review: bool = False
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return _record(self)


@dataclass(frozen=True)
class Person:
    """A person of a release: ``name`` canonical (nominative, fullest form written in the release),
    ``titles`` the titles and roles written next to the name, ``mentions`` every
    ``(start, end, text)`` that names the person (names, initials, inflected surnames, titles)."""

    name: str
    titles: tuple[str, ...]
    mentions: tuple[tuple[int, int, str], ...]

    def to_dict(self) -> dict:
        return {"name": self.name, "titles": list(self.titles),
                "mentions": [{"start": s, "end": e, "text": t} for s, e, t in self.mentions]}


@dataclass(frozen=True)
class Analysis:
    """Release type and quotes of one release, with warnings about unusual input; ``needs_review`` when
    the type, a quote or the text needs a person, with the ``reasons`` of its parts."""

    release_type: ReleaseType
    quotes: tuple[Quote, ...]
    warnings: tuple[str, ...] = ()
    people: tuple[Person, ...] = ()
    needs_review: bool = False
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"release_type": self.release_type.to_dict(), "quotes": [q.to_dict() for q in self.quotes],
                "warnings": list(self.warnings), "people": [p.to_dict() for p in self.people],
                "needs_review": self.needs_review, "reasons": list(self.reasons)}
