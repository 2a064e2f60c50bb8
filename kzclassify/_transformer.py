"""Serving a fine-tuned transformer release-type model (manifest kind "transformer-classifier").

Needs the optional ``tokenizers`` library: ``pip install kzclassify[transformer]``.
"""
from __future__ import annotations

import numpy as np

from ._features import transformer_input
from ._model import LoadedModel, ModelError

_tokenizers: dict[tuple, object] = {}


def _tokenizer(m: LoadedModel):
    key = (m.manifest["tokenizer_sha256"], m.manifest["max_length"], m.manifest.get("pad_id", 0))
    tok = _tokenizers.get(key)
    if tok is None:
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ModelError(f"{m.path}: a transformer model needs the tokenizers library: "
                             "pip install 'kzclassify[transformer]'") from None
        path = m.path.parent / m.manifest["tokenizer"]
        try:
            tok = Tokenizer.from_buffer(m.blobs["tokenizer"])
        except Exception as e:
            raise ModelError(f"{path}: cannot load the tokenizer ({e})") from None
        tok.enable_truncation(m.manifest["max_length"])  # bounded by the manifest check
        tok.enable_padding(pad_id=m.manifest.get("pad_id", 0))
        _tokenizers[key] = tok
    return tok


def transformer_proba(m: LoadedModel, texts: list[str]) -> np.ndarray:
    """Class probabilities (manifest label order) for raw release texts."""
    tok = _tokenizer(m)
    enc = tok.encode_batch([transformer_input(t) for t in texts])
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    logits = m.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    z = np.exp(logits - logits.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)
