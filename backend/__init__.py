"""The Label Studio ML backend: serves the shipped kzclassify models to Label Studio and retrains on request.

The top layer of the repository: it imports kzclassify (inference), labeling (the label
config and the Label Studio result format, the client for pulling exports) and training
(retraining jobs); nothing imports it. Run it with ``python -m backend --port 9090``.
"""
from .app import App, model_version
from .server import make_server

__all__ = ["App", "make_server", "model_version"]
