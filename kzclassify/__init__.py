"""kzclassify: release type and direct-quote attribution for Kazakh presidential press releases.

>>> import kzclassify
>>> kzclassify.classify(text).label
>>> [q.speaker for q in kzclassify.extract_quotes(text)]
"""
from ._api import analyze, classify, classify_many, extract_quotes, info
from ._model import ModelError
from ._types import Analysis, Person, Quote, ReleaseType
from .corpus import CorpusError, Release, read_releases

__version__ = "0.1.0"

__all__ = [
    "Analysis", "CorpusError", "ModelError", "Person", "Quote", "Release", "ReleaseType",
    "analyze", "classify", "classify_many", "extract_quotes", "info", "read_releases",
]
