import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from paths import CORPUS, EXPORT, ROOT  # noqa: E402


@pytest.fixture(scope="session")
def export():
    return json.loads(EXPORT.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rows(export):
    from training.data import rows_from_export
    return rows_from_export(export)


@pytest.fixture(scope="session")
def corpus_texts():
    from kzclassify.corpus import read_corpus
    return [r.text for r in read_corpus(CORPUS)]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A real Label Studio server for the whole session (tests/lsserver.py); its URL."""
    from lsserver import ServerFailed, label_studio
    try:
        with label_studio(tmp_path_factory.mktemp("lshome")) as url:
            yield url
    except ServerFailed as e:
        pytest.fail(str(e))
