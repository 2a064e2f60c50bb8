"""The public API: classify, classify_many, extract_quotes, analyze, info."""
from __future__ import annotations

import numpy as np

from ._features import type_input
from ._model import get_model, read_manifest, model_root, ModelError
from ._types import Analysis, Quote, ReleaseType

MAX_CHARS = 2_000_000
BATCH = 32  # texts per ONNX call: bounds the memory of the TF-IDF intermediates  # a release longer than this is refused rather than silently cut


def _check_text(text) -> str:
    if isinstance(text, (bytes, bytearray)):
        raise TypeError("text must be str, not bytes: decode it first (e.g. data.decode('utf-8'))")
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"text has {len(text):,} characters; the limit for one release is {MAX_CHARS:,}")
    return text


def warnings_for(text: str) -> tuple[str, ...]:
    """Warnings about input the models were not trained for (empty, not Kazakh)."""
    from ._text import looks_kazakh
    from ._normalize import SURROGATE_WARNING, clean_surrogates  # a lone surrogate is read as U+FFFD
    if clean_surrogates(text)[1]:
        return (SURROGATE_WARNING,) + warnings_for(clean_surrogates(text)[0])
    if not text.strip():
        return ("empty text",)
    if not looks_kazakh(text):
        return ("text does not look like Kazakh (Cyrillic with Kazakh letters); results are unreliable",)
    return ()


def classify_many(texts) -> list[ReleaseType]:
    """Release types for many texts in one ONNX call.

    Raises TypeError for a non-str item, ValueError for an over-long text,
    ModelError when the shipped model is missing or corrupt.
    """
    texts = [_check_text(t) for t in texts]
    from ._normalize import clean_surrogates  # a lone surrogate is read as U+FFFD, see warnings_for
    texts = [clean_surrogates(t)[0] for t in texts]
    m = get_model("release_type")
    labels = m.manifest["labels"]
    out: list[ReleaseType | None] = [None] * len(texts)
    idx = [i for i, t in enumerate(texts) if t.strip()]
    for i, t in enumerate(texts):
        if not t.strip():
            out[i] = ReleaseType(None, 0.0, {l: 0.0 for l in labels}, None, 0.0)
    for b in range(0, len(idx), BATCH):
        chunk = idx[b:b + BATCH]
        if m.manifest.get("kind") == "transformer-classifier":
            from ._transformer import transformer_proba
            proba = transformer_proba(m, [texts[i] for i in chunk])
        else:
            x = np.array([type_input(texts[i]) for i in chunk], dtype=object).reshape(-1, 1)
            proba = m.session.run(None, {"text": x})[1]
        for row, i in zip(proba, chunk):
            out[i] = ReleaseType.from_scores({l: float(p) for l, p in zip(labels, row)})
    return out  # type: ignore[return-value]


def classify(text: str) -> ReleaseType:
    """The release type of one text (see classify_many)."""
    return classify_many([text])[0]


def extract_quotes(text: str) -> list[Quote]:
    """Every direct quote in ``text`` with its speaker; offsets index ``text`` itself.

    The text is normalised first (kzclassify._normalize: any line breaks, spaces,
    blank lines); ``q.text == text[q.start:q.end]`` for the caller's own string.
    """
    from ._attribution import attribute
    from ._normalize import quotes_in_caller_text  # line breaks, spaces, surrogates: see _normalize
    text = _check_text(text)
    return quotes_in_caller_text(text, attribute)


def analyze(text: str) -> Analysis:
    """Release type and quotes of one text, with warnings about unusual input."""
    text = _check_text(text)
    return Analysis(classify(text), tuple(extract_quotes(text)), warnings_for(text))


def info() -> dict:
    """Versions, labels, metrics and sha256 of the shipped models (from their manifests)."""
    from . import __version__
    root = model_root()
    models = {}
    for name in ("release_type", "quote_speaker"):
        try:
            mf = read_manifest(root / name)
            models[name] = {k: mf.get(k) for k in ("model_version", "labels", "metrics", "sha256",
                                                   "mlflow_run_id", "training_data_digest", "created_at")}
        except ModelError as e:
            models[name] = {"error": str(e)}
    return {"version": __version__, "model_dir": str(root), "models": models}
