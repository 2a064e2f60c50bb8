"""The registry side of the loop: model generations, aliases moved together, ``models/`` restored byte for byte.

A *generation* is one retraining's pair of models (release type and quote ranker), registered as one version
of each registered model with the tags ``model_generation``, ``model_version`` (``g<N>-<sha256[:12]>`` of the
ONNX file, see ``export.model_version_of``), ``sha256`` and ``parity_ok``. The ONNX file, manifest and card of
each version are artifacts (``model_dir/``) of the run that made them; ``restore_models`` copies them into
``models/`` and checks every sha256, it never converts a model again.

``promote`` and ``rollback`` move the aliases of every registered model together (``champion``, and
``previous-champion`` on the one it replaces; the end-to-end ``kzclassify`` pyfunc follows when one of its
versions wraps exactly these ONNX files, else its ``champion`` alias is removed rather than left on other
models). The champion history is the registered release-type model's tag ``champion_history`` (generations,
oldest first). All or nothing: the new ``models/`` is prepared and checked first; when an alias move fails
every alias and the history are put back; ``models/`` is swapped last, in one rename.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kzclassify._model import file_sha256, read_manifest
from paths import MODELS

from . import tracking

SLOTS = {"release_type": tracking.RELEASE_TYPE_MODEL, "quote_speaker": tracking.QUOTES_MODEL}
PYFUNC_MODEL = "kzclassify"  # training.pyfunc.MODEL_NAME (not imported: it pulls pandas in)
CHAMPION, CHALLENGER, PREVIOUS = "champion", "challenger", "previous-champion"
HISTORY_TAG = "champion_history"
ARTIFACT_DIR = "model_dir"


PARITY_TOLERANCE = 1e-4  # largest sklearn/ONNX probability difference on the corpus a served model may have


def parity_ok(parity: dict) -> bool:
    return bool(parity) and not parity.get("label_mismatches") and parity.get("max_abs_diff", 1.0) <= PARITY_TOLERANCE


class RegistryError(RuntimeError):
    """A version, alias or artifact the command needs is not there (or not what its tags promise)."""


def client(store=None):
    import mlflow
    uri = tracking.tracking_uri(store)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient()


def _generation_of(manifest: dict) -> int:
    g = manifest.get("model_generation", 0)
    return g if isinstance(g, int) and g >= 0 else 0


def register_version(name: str, model_uri: str, manifest: dict, alias: str | None, tags: dict | None = None) -> str:
    """Register the logged model with its folder's tags; set ``alias`` when given; the version number."""
    import mlflow
    mv = mlflow.register_model(model_uri, name, tags={
        **(tags or {}), "model_generation": str(manifest["model_generation"]),
        "model_version": manifest["model_version"], "sha256": manifest["sha256"],
        "parity_ok": str(parity_ok(manifest.get("parity", {}))).lower()})
    if alias:
        mlflow.MlflowClient().set_registered_model_alias(name, alias, mv.version)
    return str(mv.version)


def _versions(c, name: str) -> list:
    from mlflow.exceptions import MlflowException
    try:
        return list(c.search_model_versions(f"name='{name}'"))
    except MlflowException:
        return []


def next_generation(store=None, models_dir: Path = MODELS) -> int:
    """One more than any generation registered in the store or shipped in ``models_dir`` (so a retraining on a
    fresh store still orders after the models the repository ships)."""
    c = client(store)
    seen = [0]
    for name in SLOTS.values():
        seen += [int(v.tags.get("model_generation", "0") or 0) for v in _versions(c, name)]
    for slot in SLOTS:
        try:
            seen.append(_generation_of(json.loads((models_dir / slot / "manifest.json").read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            pass
    return max(seen) + 1


def _alias_version(c, name: str, alias: str):
    from mlflow.exceptions import MlflowException
    try:
        return c.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def resolve(ref: str, store=None) -> dict:
    """Slot → registered model version for ``ref``: an alias (champion, challenger, previous-champion), a
    generation (``7`` or ``g7``) or a served model version (``g7-…+g7-…`` or one part of it)."""
    c = client(store)
    ref = str(ref).strip()
    out = {}
    for slot, name in SLOTS.items():
        versions = _versions(c, name)
        if not versions:
            raise RegistryError(f"no registered model {name!r} in {tracking.tracking_uri(store)}: train first "
                                "(python -m training all)")
        if ref.lower().lstrip("g").isdigit():
            gen = ref.lower().lstrip("g")
            hits = [v for v in versions if v.tags.get("model_generation") == gen]
        elif "-" in ref and ref.startswith("g"):
            parts = set(ref.split("+"))
            hits = [v for v in versions if v.tags.get("model_version") in parts]
        else:
            v = _alias_version(c, name, ref)
            hits = [v] if v is not None else []
        if not hits:
            raise RegistryError(f"{name}: no version for {ref!r} (an alias, a generation like 7, or a model "
                                "version like g7-…)")
        out[slot] = max(hits, key=lambda v: int(v.version))
    gens = {v.tags.get("model_generation") for v in out.values()}
    if len(gens) != 1:
        raise RegistryError(f"{ref!r} names versions of different generations: "
                            + ", ".join(f"{SLOTS[s]} v{v.version} (generation {v.tags.get('model_generation')})"
                                        for s, v in out.items()))
    return out


def _download(c, mv, into: Path) -> Path:
    """The version's ``model_dir/`` artifact, checked: manifest schema, file sha256 = manifest = version tag."""
    import mlflow
    try:
        got = Path(mlflow.artifacts.download_artifacts(run_id=mv.run_id, artifact_path=ARTIFACT_DIR,
                                                       dst_path=str(into), tracking_uri=mlflow.get_tracking_uri()))
    except Exception as e:  # MLflow raises several types for a missing artifact
        raise RegistryError(f"{mv.name} v{mv.version}: run {mv.run_id} has no {ARTIFACT_DIR}/ artifact "
                            f"(registered before models were logged as artifacts? retrain it): {e}") from None
    manifest = read_manifest(got)
    sha = file_sha256(got / manifest["file"])
    if sha != manifest["sha256"] or mv.tags.get("sha256", sha) != sha:
        raise RegistryError(f"{mv.name} v{mv.version}: the artifact's {manifest['file']} sha256 {sha[:16]}… differs "
                            f"from its manifest or the version's tag")
    if mv.tags.get("parity_ok") == "false":
        raise RegistryError(f"{mv.name} v{mv.version}: ONNX parity failed when it was trained; not served")
    return got


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2 RENAME_EXCHANGE); False when unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    r = fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return r == 0


def _fsync_tree(d: Path) -> None:
    for p in d.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def _stage(c, versions: dict, models_dir: Path) -> Path:
    """A complete new models folder beside ``models_dir`` (same file system): the slots from the registry,
    every other entry of the current folder (e.g. a transformer model) copied over."""
    models_dir = models_dir.resolve()
    models_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{models_dir.name}.new-", dir=models_dir.parent))
    try:
        if models_dir.is_dir():
            for entry in models_dir.iterdir():
                if entry.name not in versions and not entry.name.startswith("."):
                    (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, stage / entry.name)
        for slot, mv in versions.items():
            with tempfile.TemporaryDirectory(dir=stage) as td:
                got = _download(c, mv, Path(td))
                shutil.copytree(got, stage / slot)
        _fsync_tree(stage)
        return stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap_in(stage: Path, models_dir: Path) -> None:
    """Put ``stage`` in place of ``models_dir``: one atomic exchange where the OS has it (a reader sees the old
    folder or the new one, never a mix or none), else two renames."""
    models_dir = models_dir.resolve()
    if models_dir.is_dir() and _renameat2_exchange(stage, models_dir):
        shutil.rmtree(stage, ignore_errors=True)  # now the old folder
        return
    old = None
    if models_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{models_dir.name}.old-", dir=models_dir.parent))
        os.rmdir(old)
        os.rename(models_dir, old)
    os.rename(stage, models_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def restore_models(ref: str = CHAMPION, store=None, models_dir: Path = MODELS) -> dict:
    """Write ``models_dir`` for ``ref`` (see ``resolve``) from the registry, byte for byte, atomically;
    slot → manifest."""
    c = client(store)
    versions = resolve(ref, store)
    stage = _stage(c, versions, Path(models_dir))
    _swap_in(stage, Path(models_dir))
    return {slot: read_manifest(Path(models_dir) / slot) for slot in versions}


def restore_slot(slot: str, ref: str, store=None, out: Path | None = None) -> dict:
    """One model folder (``training export``): a version number of that model or an alias, byte for byte."""
    c = client(store)
    name = SLOTS[slot]
    from mlflow.exceptions import MlflowException
    try:
        mv = c.get_model_version(name, ref) if str(ref).isdigit() else c.get_model_version_by_alias(name, ref)
    except MlflowException as e:
        raise RegistryError(f"{name}: no version or alias {ref!r} ({str(e).splitlines()[0][:120]})") from None
    out = Path(out or MODELS / slot)
    with tempfile.TemporaryDirectory() as td:
        got = _download(c, mv, Path(td))
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
        os.rmdir(stage)
        shutil.copytree(got, stage)
        _fsync_tree(stage)
    _swap_in(stage, out)
    return read_manifest(out)


@dataclass(frozen=True)
class Moved:
    generation: int
    versions: dict  # registered model name → version now champion
    previous: int | None  # the generation it replaced
    notes: tuple = ()
    manifests: dict | None = None

    def line(self) -> str:
        v = ", ".join(f"{n} v{x}" for n, x in self.versions.items())
        was = ("" if self.previous is None else ", already the champion" if self.previous == self.generation
               else f", was generation {self.previous}")
        return (f"champion → generation {self.generation} ({v}){was}"
                + "".join(f"; {n}" for n in self.notes))


def _history(c) -> list[int]:
    try:
        raw = c.get_registered_model(SLOTS["release_type"]).tags.get(HISTORY_TAG, "[]")
        return [int(x) for x in json.loads(raw)]
    except Exception:  # no such model yet, or a hand-edited tag
        return []


def _pyfunc_for(c, manifests: dict):
    """The newest pyfunc version whose wheel carries exactly these ONNX files (its sha256 tags), or None."""
    want = {f"{slot}_sha256": m["sha256"] for slot, m in manifests.items()}
    hits = [v for v in _versions(c, PYFUNC_MODEL) if all(v.tags.get(k) == s for k, s in want.items())]
    return max(hits, key=lambda v: int(v.version)) if hits else None


def _move(c, target: dict, history: list[int], models_dir: Path) -> Moved:
    """Make ``target`` (slot → version) the champion everywhere, then swap ``models_dir``; all or nothing."""
    gen = int(next(iter(target.values())).tags["model_generation"])
    stage = _stage(c, target, Path(models_dir))  # downloads and checks before anything moves
    manifests = {slot: read_manifest(stage / slot) for slot in target}
    plan = {SLOTS[slot]: mv.version for slot, mv in target.items()}
    notes = []
    if _versions(c, PYFUNC_MODEL):
        pf = _pyfunc_for(c, manifests)
        plan[PYFUNC_MODEL] = pf.version if pf is not None else None
        if pf is None:
            notes.append(f"{PYFUNC_MODEL}: no version wraps these models, its champion alias is removed "
                         "(python -m training pyfunc registers one)")
    before = {name: {a: getattr(_alias_version(c, name, a), "version", None) for a in (CHAMPION, PREVIOUS)}
              for name in plan}
    old_history = _history(c)
    cur = _alias_version(c, SLOTS["release_type"], CHAMPION)
    prev_gen = int(cur.tags.get("model_generation", "0") or 0) if cur is not None else None
    done: list[tuple[str, str]] = []
    try:
        for name, version in plan.items():
            cur = before[name][CHAMPION]
            if cur is not None and cur != version:
                c.set_registered_model_alias(name, PREVIOUS, cur)
                done.append((name, PREVIOUS))
            if version is None:
                if cur is not None:
                    c.delete_registered_model_alias(name, CHAMPION)
            else:
                c.set_registered_model_alias(name, CHAMPION, version)
            done.append((name, CHAMPION))
        c.set_registered_model_tag(SLOTS["release_type"], HISTORY_TAG, json.dumps(history[-200:]))
        done.append(("history", ""))
        _swap_in(stage, Path(models_dir))
    except BaseException:
        for name, alias in reversed(done):
            try:
                if name == "history":
                    c.set_registered_model_tag(SLOTS["release_type"], HISTORY_TAG, json.dumps(old_history))
                elif before[name][alias] is None:
                    c.delete_registered_model_alias(name, alias)
                else:
                    c.set_registered_model_alias(name, alias, before[name][alias])
            except Exception:
                pass  # best effort: the original error is the one to report
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return Moved(gen, {n: v for n, v in plan.items() if v is not None}, prev_gen, tuple(notes), manifests)


def promote(version: str, store=None, models_dir: Path = MODELS) -> Moved:
    """Make generation ``version`` (see ``resolve``) the champion of every registered model and restore
    ``models_dir`` from it."""
    c = client(store)
    target = resolve(version, store)
    gen = int(next(iter(target.values())).tags["model_generation"])
    history = [g for g in _history(c) if g != gen] + [gen]
    return _move(c, target, history, models_dir)


def rollback(store=None, models_dir: Path = MODELS) -> Moved:
    """Back to the champion before the current one (the history's previous entry), everything together."""
    c = client(store)
    history = _history(c)
    if len(history) < 2:
        raise RegistryError("no previous champion to roll back to (the champion history has "
                            f"{len(history)} entr{'y' if len(history) == 1 else 'ies'})")
    return _move(c, resolve(str(history[-2]), store), history[:-1], models_dir)


def champion_rows(store=None) -> tuple[list[dict] | None, dict | None]:
    """The current champion's training rows (the ``data/training_rows.json`` artifact of its retraining) and
    its release-type version's tags/params; (None, None) when there is no restorable champion."""
    import mlflow
    c = client(store)
    mv = _alias_version(c, SLOTS["release_type"], CHAMPION)
    if mv is None or "model_generation" not in mv.tags:
        # none, or one registered before model folders were run artifacts: it cannot be restored byte for
        # byte, so it is no reference for the gate (the retraining becomes the first restorable champion)
        return None, None
    run = c.get_run(mv.run_id)
    info = {"version": mv.version, "run_id": mv.run_id, "chosen": run.data.params.get("chosen"),
            "generation": int(mv.tags.get("model_generation", "0") or 0), "model_version": mv.tags.get("model_version")}
    for rid in (run.data.tags.get("mlflow.parentRunId"), mv.run_id):
        if not rid:
            continue
        try:
            with tempfile.TemporaryDirectory() as td:
                p = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="data/training_rows.json",
                                                        dst_path=td, tracking_uri=mlflow.get_tracking_uri())
                return json.loads(Path(p).read_text(encoding="utf-8")), info
        except Exception:
            continue
    return None, info
