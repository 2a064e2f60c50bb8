"""The served champion: the model folder's Analyzer, replaced by a freshly loaded one when the folder changes.

A promotion (a retraining job of this backend, or ``python -m training promote/rollback`` in another
process) replaces the model folder. A watcher thread looks at the manifests' ``stat`` (inode, size,
mtime: no file is read) every ``interval`` seconds; when it changed, it loads a new Analyzer from the
folder, checks that the manifests did not change while it loaded, and swaps it in with one
assignment. Requests read :attr:`Champion.analyzer` once and keep it to the end, so a request never
waits for a load, never sees half of two model versions, and none is dropped. A folder that does not
load (half written, corrupt) keeps the old models serving and is logged once; it is tried again when
the folder changes again.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import kzclassify

log = logging.getLogger("kzclassify.backend")


def folder_state(model_dir: Path) -> tuple:
    """What identifies the folder's models cheaply: (model, inode, size, mtime_ns) of each ``*/manifest.json``.

    A new model always has a new manifest (it carries the model file's sha256), and writing models/
    renames a new folder in (new inodes) or rewrites the files (new mtime/size), so a promotion always
    changes this; a missing folder is the empty tuple.
    """
    out = []
    try:
        names = sorted(os.listdir(model_dir))
    except OSError:
        return ()
    for name in names:
        try:
            st = os.stat(Path(model_dir) / name / "manifest.json")
        except OSError:
            continue
        out.append((name, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def version(analyzer: kzclassify.Analyzer) -> str:
    """``Analyzer.model_version`` (from the manifests, as `labeling push` writes it), or 'unavailable'."""
    try:
        return analyzer.model_version
    except Exception:  # /health must answer whatever state the model folder is in
        return "unavailable"


class Champion:
    """The Analyzer to serve from ``model_dir`` (default: kzclassify's, i.e. $KZCLASSIFY_MODEL_DIR or the
    shipped models), following the folder every ``interval`` seconds (0: only when :meth:`check` is called)."""

    def __init__(self, model_dir: str | Path | None = None, interval: float = 1.0):
        self.analyzer = kzclassify.Analyzer(model_dir)
        self.model_dir = self.analyzer.model_dir
        self._state = folder_state(self.model_dir)  # the folder self.analyzer reads
        self._failed: tuple | None = None  # the folder state that last failed to load (logged once)
        self._missing = 0  # checks in a row that found no manifest
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if interval > 0:
            threading.Thread(target=self._watch, args=(interval,), daemon=True, name="champion-watcher").start()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.check()
            except Exception:  # a bug here must not end the watching; logged with its traceback
                log.exception("checking the model folder failed")

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> bool:
        """Swap in the folder's models if they changed and load; True when a new Analyzer is served."""
        with self._lock:
            state = folder_state(self.model_dir)
            if state in (self._state, self._failed):
                self._missing = 0
                return False
            old = version(self.analyzer)
            if not state:  # no manifest at all: a folder being renamed in, or gone; logged when it stays so
                self._missing += 1
                if self._missing == 2:
                    log.warning("the model folder %s has no models; still serving %s", self.model_dir, old)
                return False
            self._missing = 0
            fresh = kzclassify.Analyzer(self.model_dir)
            try:
                fresh.load()
            except kzclassify.ModelError as e:
                if folder_state(self.model_dir) == state:  # not a folder caught mid-rename: a broken one
                    self._failed = state
                    log.error("the model folder changed but does not load; still serving %s: %s", old, e)
                return False
            if folder_state(self.model_dir) != state:  # changed again while loading: the next check loads it
                return False
            self.analyzer, self._state, self._failed = fresh, state, None
        log.info("now serving %s (was %s) from %s", version(fresh), old, self.model_dir)
        return True
