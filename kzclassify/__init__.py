"""kzclassify: release type and direct-quote attribution for Kazakh presidential press releases.

>>> import kzclassify
>>> kzclassify.classify(text).label
>>> [q.speaker for q in kzclassify.extract_quotes(text)]
"""
from ._api import MAX_CHARS, Analyzer, analyze, classify, classify_many, extract_quotes, info
from ._calibration import ReviewTargetError
from ._model import ModelError
from ._types import Analysis, Person, Quote, ReleaseType
from .corpus import CorpusError, Release, read_releases

from ._version import __version__

__all__ = [
    "MAX_CHARS", "Analysis", "Analyzer", "CorpusError", "ModelError", "Person", "Quote", "Release", "ReleaseType",
    "ReviewTargetError", "analyze", "classify", "classify_many", "extract_quotes", "info", "read_releases",
]
