"""Batch scoring with the registered ``kzclassify`` pyfunc: ``python -m training score``.

Reads releases (Parquet or JSON lines with a ``text`` column, or a ``///``
corpus / plain-text file), runs the registered model on every one, and writes
Parquet: the input's columns followed by the model's output columns
(``release_type``, ``quotes``, ... as nested Parquet types, one per key of
``kzclassify.analyze(text).to_dict()``).

``--engine spark`` loads the model with ``mlflow.pyfunc.spark_udf`` (on
``--master``, default ``local[2]``) and writes a Parquet directory of part
files; ``--engine local`` runs the same model in this process and writes one
Parquet file. Needs the ``spark`` extra (pyspark, pyarrow) and Java 17 for Spark.

``--overwrite`` replaces only output this command wrote before: a Parquet file carrying the
``kzclassify.score`` key in its metadata, or a directory holding the ``_KZCLASSIFY_SCORE`` marker
file (Spark skips files starting with ``_``). Any other file or directory is refused, never deleted.

Loading the model runs the Python code stored with it in the MLflow store (models-from-code):
see docs/security.md for who must be able to write the store.
"""
from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from .tracking import tracking_uri

DEFAULT_MODEL = "models:/kzclassify@champion"
LOCAL_BATCH = 256
MARKER_KEY = b"kzclassify.score"  # in the Parquet metadata of a file this command wrote
MARKER_FILE = "_KZCLASSIFY_SCORE"  # inside a Parquet directory this command wrote


class ScoreError(ValueError):
    """Bad input, output or set-up for scoring; the message says what to do."""


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _kind(path: Path) -> str:
    if path.suffix.lower() == ".parquet" or (path.is_dir() and any(path.glob("*.parquet"))):
        return "parquet"
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if path.is_dir():
        raise ScoreError(f"{path}: a directory without .parquet files")
    return "text"


def _releases_frame(path: Path):
    import pandas as pd

    from kzclassify import CorpusError, read_releases
    try:
        rels = read_releases(path)
    except CorpusError as e:
        raise ScoreError(str(e)) from None
    return pd.DataFrame({"id": [r.id for r in rels], "text": [r.text for r in rels]})


def read_local(path: Path):
    """The input as a pandas DataFrame with a ``text`` column (ScoreError otherwise)."""
    import pandas as pd
    import pyarrow as pa

    kind = _kind(path)
    try:
        if kind == "parquet":
            df = pd.read_parquet(path)
        elif kind == "jsonl":
            df = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
        else:
            df = _releases_frame(path)
    except (pa.ArrowException, ValueError, OSError) as e:
        raise ScoreError(f"{path}: cannot read it as {kind} ({str(e).splitlines()[0][:300]})") from None
    _check_text_column(list(df.columns), path)
    bad = [i for i, t in enumerate(df["text"].tolist()) if not isinstance(t, str)]
    if bad:
        raise ScoreError(f"{path}: {len(bad)} rows have no text or a non-string text (first: row {bad[0]})")
    return df


def _check_text_column(columns: list[str], path: Path) -> None:
    if "text" not in columns:
        raise ScoreError(f"{path}: no 'text' column (columns: {', '.join(map(str, columns)) or 'none'})")


def _arrow_type(t):
    import pyarrow as pa
    from mlflow.types.schema import Array, DataType, Map, Object

    if isinstance(t, DataType):
        return {"string": pa.string(), "double": pa.float64(), "float": pa.float32(), "long": pa.int64(),
                "integer": pa.int32(), "boolean": pa.bool_(), "binary": pa.binary(),
                "datetime": pa.timestamp("us")}[t.name]
    if isinstance(t, Array):
        return pa.list_(_arrow_type(t.dtype))
    if isinstance(t, Object):
        return pa.struct([(p.name, _arrow_type(p.dtype)) for p in t.properties])
    if isinstance(t, Map):
        return pa.map_(pa.string(), _arrow_type(t.value_type))
    raise ScoreError(f"the model's output schema has a type Parquet output does not handle: {t}")


def _output_names(schema) -> list[str]:
    if schema is None or not schema.has_input_names():
        raise ScoreError("the model has no named output schema: register it with `python -m training pyfunc`")
    return schema.input_names()


def _check_clash(inputs: list[str], outputs: list[str]) -> None:
    clash = sorted(set(inputs) & set(outputs))
    if clash:
        raise ScoreError(f"input columns {clash} clash with the model's output columns: rename them")


def _load(model_uri: str, loader=None):
    """``loader(model_uri)`` (default ``mlflow.pyfunc.load_model``); ScoreError when MLflow cannot."""
    import mlflow
    from mlflow.exceptions import MlflowException
    try:
        return (loader or mlflow.pyfunc.load_model)(model_uri)
    except (MlflowException, OSError) as e:
        raise ScoreError(f"cannot load {model_uri} from {mlflow.get_tracking_uri()}: {str(e).splitlines()[0][:300]} "
                         f"(register it with `python -m training pyfunc`)") from None


def score_local(inp: Path, out: Path, model_uri: str = DEFAULT_MODEL, overwrite: bool = False,
                quiet: bool = False) -> int:
    """Score ``inp`` in this process with the pyfunc; write one Parquet file; the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_output(out, overwrite)
    df = read_local(inp)
    t0 = time.perf_counter()
    model = _load(model_uri)
    outputs = _output_names(model.metadata.get_output_schema())
    _check_clash(list(df.columns), outputs)
    _log(f"model {model_uri} loaded in {time.perf_counter() - t0:.1f}s; scoring {len(df)} releases", quiet)
    t1 = time.perf_counter()
    parts = []
    for b in range(0, len(df), LOCAL_BATCH):
        parts.append(model.predict(df[["text"]].iloc[b:b + LOCAL_BATCH]))
        done = min(b + LOCAL_BATCH, len(df))
        _log(f"scored {done}/{len(df)} releases ({done / (time.perf_counter() - t1):.0f}/s)", quiet)
    in_table = pa.Table.from_pandas(df, preserve_index=False)
    in_table = in_table.replace_schema_metadata({**(in_table.schema.metadata or {}), MARKER_KEY: _marker()})
    schema = model.metadata.get_output_schema()
    types = {spec.name: _arrow_type(spec.type) for spec in schema.inputs}
    records = [r for p in parts for r in p.to_dict(orient="records")]
    cols = {c: pa.array([r[c] for r in records], type=types[c]) for c in outputs}
    table = in_table
    for c in outputs:
        table = table.append_column(c, cols[c])
    if out.exists():
        _remove(out)
    pq.write_table(table, out)
    _log(f"wrote {len(df)} rows to {out}", quiet)
    return len(df)


def _marker() -> bytes:
    import datetime as dt
    import json
    return json.dumps({"written_by": "python -m training score",
                       "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}).encode()


def written_by_score(p: Path) -> bool:
    """True when ``p`` is output of this command: a directory with the marker file, or a Parquet file
    whose metadata has the marker key (never followed through a symlink)."""
    if p.is_symlink():
        return False
    if p.is_dir():
        return (p / MARKER_FILE).is_file() and not (p / MARKER_FILE).is_symlink()
    try:
        import pyarrow.parquet as pq
        return MARKER_KEY in (pq.read_schema(p).metadata or {})
    except Exception:  # not Parquet, unreadable: not ours
        return False


def _check_output(out: Path, overwrite: bool) -> None:
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise ScoreError(f"{out} exists (use --overwrite)")
        if not written_by_score(out):
            raise ScoreError(f"{out} exists and was not written by `training score` (no {MARKER_FILE} marker "
                             "or Parquet metadata): --overwrite replaces only this command's own output; "
                             "choose another --output or remove it yourself")
    if not out.parent.is_dir():
        raise ScoreError(f"{out.parent}: no such directory for the output")


def _remove(p: Path) -> None:
    """Remove output this command wrote (checked again here, just before deleting)."""
    if not written_by_score(p):
        raise ScoreError(f"{p} was not written by `training score`: not removed")
    if p.is_dir():
        shutil.rmtree(p)
    else:
        p.unlink()


def spark_session(master: str = "local[2]"):
    """A Spark session whose Python workers run this interpreter (ScoreError when Spark cannot start)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ScoreError("pyspark is not installed: pip install -e '.[spark]'") from None
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise ScoreError("Spark needs Java 17: apt-get install -y openjdk-17-jre-headless (or `make sysdeps`)")
    # workers must import the same kzclassify and mlflow as the driver
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        spark = (SparkSession.builder.master(master).appName("kzclassify-score")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")  # _Progress prints plain lines instead
                 .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                 .getOrCreate())
    except Exception as e:  # py4j / pyspark raise their own exception types
        raise ScoreError(f"Spark did not start on {master}: {str(e).splitlines()[0][:300]}") from None
    spark.sparkContext.setLogLevel("FATAL")  # failures reach the user as one ScoreError line
    return spark


def read_spark(spark, path: Path):
    """The input as a Spark DataFrame with a string ``text`` column (ScoreError otherwise)."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException
    from pyspark.sql.types import StringType

    kind = _kind(path)
    try:
        if kind == "parquet":
            df = spark.read.parquet(str(path))
        elif kind == "jsonl":
            df = spark.read.json(str(path), mode="FAILFAST")
        else:
            df = spark.createDataFrame(_releases_frame(path))
    except (PySparkException, Py4JJavaError) as e:
        raise ScoreError(f"{path}: cannot read it as {kind} ({_spark_message(e)})") from None
    if "_corrupt_record" in df.columns:
        raise ScoreError(f"{path}: not JSON lines (one JSON object per line)")
    _check_text_column(df.columns, path)
    if not isinstance(df.schema["text"].dataType, StringType):
        raise ScoreError(f"{path}: 'text' is {df.schema['text'].dataType.simpleString()}, not a string")
    return df


def _spark_message(e: Exception) -> str:
    """The line of a Spark/JVM error that says what went wrong (not py4j's "error calling o52.json")."""
    lines = [ln.strip(": \t") for ln in str(e).splitlines() if ln.strip()]
    for ln in lines:
        if "Exception:" in ln or "Error:" in ln or ln.startswith("["):
            return ln[:400]
    return (lines[0] if lines else type(e).__name__)[:400]


class _Progress(threading.Thread):
    """Prints the running stage's finished partitions every ``every`` seconds."""

    def __init__(self, sc, quiet: bool, every: float = 2.0):
        super().__init__(daemon=True)
        self.tracker, self.quiet, self.every = sc.statusTracker(), quiet, every
        self.stop = threading.Event()

    def run(self):
        last = None
        while not self.stop.wait(self.every):
            for sid in self.tracker.getActiveStageIds():
                st = self.tracker.getStageInfo(sid)
                if st is not None and (sid, st.numCompletedTasks) != last:
                    last = (sid, st.numCompletedTasks)
                    _log(f"stage {sid}: {st.numCompletedTasks}/{st.numTasks} partitions done", self.quiet)


def score_spark(inp: Path, out: Path, model_uri: str = DEFAULT_MODEL, overwrite: bool = False,
                quiet: bool = False, master: str = "local[2]", partitions: int | None = None, spark=None) -> int:
    """Score ``inp`` with ``mlflow.pyfunc.spark_udf``; write a Parquet directory; the number of rows."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    _check_output(out, overwrite)
    own = spark is None
    spark = spark or spark_session(master)
    try:
        return _score_spark(spark, inp, out, model_uri, overwrite, quiet, partitions)
    except (PySparkException, Py4JJavaError) as e:
        raise ScoreError(f"Spark failed: {_spark_message(e)}") from None
    finally:
        if own:
            spark.stop()


def _score_spark(spark, inp, out, model_uri, overwrite, quiet, partitions) -> int:
    import mlflow
    from pyspark.sql import functions as F

    df = read_spark(spark, inp)
    n, missing = df.agg(F.count(F.lit(1)), F.count(F.when(F.col("text").isNull(), 1))).first()
    if missing:
        raise ScoreError(f"{inp}: {missing} rows have no text")
    udf = _load(model_uri, lambda uri: mlflow.pyfunc.spark_udf(spark, uri, env_manager="local"))
    signature = mlflow.models.get_model_info(model_uri).signature
    outputs = _output_names(signature.outputs if signature else None)
    _check_clash(df.columns, outputs)
    parallel = spark.sparkContext.defaultParallelism
    parts = partitions or max(2 * parallel, math.ceil(n / 1000))
    _log(f"scoring {n} releases in {parts} partitions on {spark.sparkContext.master}", quiet)
    scored = (df.repartition(parts).withColumn("_kz", udf("text"))
              .select(*[F.col(f"`{c}`") for c in df.columns], *[F.col("_kz")[c].alias(c) for c in outputs]))
    progress = _Progress(spark.sparkContext, quiet)
    progress.start()
    t = time.perf_counter()
    try:
        if out.exists():  # ours (checked by _check_output): Spark would delete whatever is there
            _remove(out)
        scored.write.mode("errorifexists").parquet(str(out))
        (out / MARKER_FILE).write_bytes(_marker())
    finally:
        progress.stop.set()
    dt = time.perf_counter() - t
    _log(f"wrote {n} rows to {out}/ in {dt:.1f}s ({n / dt if dt else 0:.0f}/s)", quiet)
    return n


def add_parser(sub) -> None:
    """``python -m training score``."""
    p = sub.add_parser("score", help="score releases with the registered kzclassify pyfunc (Spark or local)")
    p.add_argument("--input", required=True, help="releases: .parquet or .jsonl with a 'text' column, or a corpus/text file")
    p.add_argument("--output", required=True, help="Parquet output (a directory of part files with --engine spark)")
    p.add_argument("--engine", choices=["spark", "local"], default="spark")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"MLflow model URI (default {DEFAULT_MODEL})")
    p.add_argument("--store", default=None, help="MLflow store dir (default mlruns/; MLFLOW_TRACKING_URI overrides)")
    p.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    p.add_argument("--partitions", type=int, default=None, help="Spark partitions (default max(2×cores, rows/1000))")
    p.add_argument("--overwrite", action="store_true",
                   help="replace output an earlier `training score` wrote (never any other file or folder)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cli)


def cli(args) -> int:
    import warnings

    import mlflow
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # the pyfunc is models-from-code: no pickle to load, so MLflow may refuse any model that would need it
    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"
    warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
    uri = tracking_uri(args.store)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    inp, out = Path(args.input), Path(args.output)
    if not inp.exists():
        raise ScoreError(f"{inp}: no such file or directory")
    if args.engine == "spark":
        score_spark(inp, out, args.model, args.overwrite, args.quiet, args.master, args.partitions)
    else:
        score_local(inp, out, args.model, args.overwrite, args.quiet)
    return 0
