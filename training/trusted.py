"""Loading scikit-learn models from the MLflow store without trusting the store's own allow-list.

``mlflow.sklearn.load_model`` reads the skops "trusted types" from the model's MLmodel file and
adds the model's ``code`` folder to ``sys.path``: whoever can write the store decides what loading
runs. Here the skops file is loaded with this repository's list (``tracking.SKOPS_TRUSTED`` plus
skops' safe defaults); a pickled or cloudpickled model is refused, as is any type outside the list.
"""
from __future__ import annotations

from pathlib import Path

from .tracking import SKOPS_TRUSTED


class UntrustedModel(RuntimeError):
    """A registered model this repository will not deserialise; the message says why."""


def load_sklearn(model_uri: str):
    """The scikit-learn estimator at ``model_uri``, deserialised by skops with the repository's trusted types."""
    import mlflow
    import skops.io
    import yaml

    local = Path(mlflow.artifacts.download_artifacts(model_uri))
    try:
        conf = yaml.safe_load((local / "MLmodel").read_text(encoding="utf-8"))["flavors"]["sklearn"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as e:
        raise UntrustedModel(f"{model_uri}: no scikit-learn flavour in its MLmodel ({type(e).__name__}: {e})") from None
    if conf.get("serialization_format") != "skops":
        raise UntrustedModel(f"{model_uri} is stored as {conf.get('serialization_format', 'pickle')!r}; only skops "
                             "models are loaded (pickle runs arbitrary code): retrain it with this repository")
    path = local / str(conf.get("pickled_model", ""))
    if not path.resolve().is_relative_to(local.resolve()) or not path.is_file():
        raise UntrustedModel(f"{model_uri}: its MLmodel names {conf.get('pickled_model')!r}, not a file in the model")
    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED))
    if untrusted:
        raise UntrustedModel(f"{model_uri} holds types this repository does not trust: {', '.join(untrusted[:5])}")
    return skops.io.load(path, trusted=SKOPS_TRUSTED)
