"""The reading of the release-type model's CV errors (``release_type_review.json``), read by training and the card."""
from __future__ import annotations

import json
from pathlib import Path

REVIEW = Path(__file__).resolve().parent / "release_type_review.json"


def load_review(path: Path = REVIEW) -> dict:
    """The reading of the previous model's CV errors: release id → {"family", "gold", "why"}."""
    return json.loads(path.read_text(encoding="utf-8"))
