"""The ``kzclassify`` MLflow pyfunc, as MLflow models-from-code.

MLflow copies this file into the logged model and runs it wherever the model is
loaded (``mlflow models serve``, ``mlflow.pyfunc.spark_udf``, ``load_model`` in
a fresh venv), so it imports only mlflow, pandas and kzclassify: never
``training``. The model's requirements install kzclassify from the wheel
logged beside it.

Input: a DataFrame with a string column ``text`` (one raw release per row) and an optional
string column ``date`` (the release's ISO date; it decides who the sitting president is).
Output: one row per release whose columns are the keys of
``kzclassify.analyze(text).to_dict()`` with the same nested values (the
signature is inferred from those dicts by ``training.pyfunc``), so a served
answer equals ``analyze`` field for field.
"""
from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

import kzclassify

class KzclassifyModel(mlflow.pyfunc.PythonModel):
    """Raw releases → release type, quotes with speakers and warnings (``kzclassify.analyze``)."""

    def load_context(self, context):
        # The model was registered with the sha256 of each ONNX model inside its wheel: refuse to
        # serve a different kzclassify (another install, other models) under this registry version.
        expected = (context.model_config or {}).get("model_sha256", {})
        self.analyzer = kzclassify.Analyzer()
        installed = self.analyzer.info()["models"]  # loads each model and checks its file against the manifest
        for name, sha in expected.items():
            got = installed.get(name, {}).get("sha256")
            if got != sha:
                err = installed.get(name, {}).get("error")
                raise kzclassify.ModelError(
                    f"kzclassify model {name!r}: installed sha256 {str(got)[:16]}… is not the registered "
                    f"{sha[:16]}…{f' ({err})' if err else ''} (install the wheel logged with this MLflow model: "
                    "see its requirements.txt)")
        self.analyzer.load()
        self.columns = list(self.analyzer.analyze("").to_dict())

    # pd.DataFrame: MLflow checks the input against the logged signature (inferred from analyze's results),
    # not against type hints
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        texts = _texts(model_input)
        dates = model_input["date"].tolist() if "date" in model_input.columns else [None] * len(texts)
        rows = []
        for i, (t, d) in enumerate(zip(texts, dates)):
            try:
                rows.append(self.analyzer.analyze(t, None if pd.isna(d) else d).to_dict())
            except (TypeError, ValueError) as e:
                raise MlflowException(f"row {i}: {e}", error_code=INVALID_PARAMETER_VALUE) from None
        return pd.DataFrame(rows, columns=self.columns)


def _texts(model_input: pd.DataFrame) -> list:
    # MLflow enforces the signature before predict; this covers direct calls (unwrap_python_model)
    if "text" not in model_input.columns:
        raise MlflowException(f"input needs a column 'text'; got {list(model_input.columns)}",
                              error_code=INVALID_PARAMETER_VALUE)
    return model_input["text"].tolist()


mlflow.models.set_model(KzclassifyModel())
