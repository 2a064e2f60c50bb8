"""The label set, read from ``labeling/config.xml`` (the single source of truth)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CONFIG_PATH = Path(__file__).with_name("config.xml")


@dataclass(frozen=True)
class Schema:
    xml: str
    text_name: str  # <Text name>
    type_name: str  # <Choices name>
    types: tuple[str, ...]
    span_name: str  # <Labels name>
    span_labels: tuple[str, ...]
    relation_labels: tuple[str, ...]
    canonical_name: str  # per-region TextArea
    note_name: str  # document-level TextArea


def parse_config(xml: str) -> Schema:
    """Parse a Label Studio config into a Schema; ValueError if a part is missing."""
    root = ET.fromstring(xml)
    text = root.find(".//Text")
    choices = root.find(".//Choices")
    labels = root.find(".//Labels")
    if text is None or choices is None or labels is None:
        raise ValueError("config needs a <Text>, a <Choices> and a <Labels> tag")
    per_region = [t for t in root.iter("TextArea") if t.get("perRegion") == "true"]
    doc_level = [t for t in root.iter("TextArea") if t.get("perRegion") != "true"]
    span_labels = tuple(l.get("value") for l in labels.iter("Label"))
    if set(span_labels) != {"QUOTE", "SPEAKER", "PERSON"} or not per_region:
        raise ValueError("config needs span labels QUOTE, SPEAKER and PERSON and a per-region canonical TextArea")
    return Schema(
        xml=xml,
        text_name=text.get("name"),
        type_name=choices.get("name"),
        types=tuple(c.get("value") for c in choices.iter("Choice")),
        span_name=labels.get("name"),
        span_labels=span_labels,
        relation_labels=tuple(r.get("value") for r in root.iter("Relation")),
        canonical_name=per_region[0].get("name"),
        note_name=doc_level[0].get("name") if doc_level else "",
    )


@lru_cache(maxsize=1)
def schema() -> Schema:
    """The project schema from labeling/config.xml."""
    return parse_config(CONFIG_PATH.read_text(encoding="utf-8"))
