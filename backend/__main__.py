"""``python -m backend``: run the ML backend (see backend/app.py for the protocol).

Exit codes: 0 stopped (Ctrl-C / SIGTERM), 2 usage error, the port cannot be bound, or a non-loopback
address without BASIC_AUTH_USER/BASIC_AUTH_PASS (backend/auth.py). The bounds and their flags: backend/limits.py.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from . import limits
from .auth import AuthConfigError, credentials_from_env


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m backend", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9090)
    p.add_argument("--label-studio-url", default=None, help="where retraining pulls the export from "
                   "(default $LABEL_STUDIO_URL)")
    p.add_argument("--project", default=None, help="the Label Studio project (id or title) every retraining pulls, "
                   "whatever project a request names (default $LABEL_STUDIO_PROJECT, else 'kzclassify releases')")
    p.add_argument("--store", default=None, help="MLflow store for retraining runs")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds of a retraining")
    p.add_argument("--repeats", type=int, default=None, help="CV repeats of a retraining (default: training's)")
    p.add_argument("--cooldown", type=float, default=60, help="seconds after a retraining ends before another may "
                   "start (default 60)")
    p.add_argument("--retrain-every", type=int, default=None, metavar="N", help="also retrain after N submitted "
                   "annotations since the last retraining (default: only on Start Training)")
    p.add_argument("--reload-interval", type=float, default=1.0, help="seconds between checks of the model folder "
                   "for a new champion (default 1)")
    p.add_argument("--model-dir", "--models-dir", dest="model_dir", default=None, help="model folder (default $KZCLASSIFY_MODEL_DIR, else the shipped models)")
    p.add_argument("--threads", type=int, default=4, help="requests processed at once (default 4)")
    p.add_argument("--timeout", type=int, default=30, help="close a connection silent for this many seconds")
    p.add_argument("--max-body-mb", type=int, default=8, help="larger request bodies get 413 (default 8)")
    limits.add_arguments(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if min(args.threads, args.timeout, args.max_body_mb, args.folds, args.repeats or 1, args.retrain_every or 1) < 1:
        print("error: --threads, --timeout, --max-body-mb, --folds, --repeats and --retrain-every must be at "
              "least 1", file=sys.stderr)
        return 2
    if args.folds < 2 or args.cooldown < 0 or not args.reload_interval > 0:
        print("error: --folds must be at least 2, --cooldown at least 0, --reload-interval more than 0", file=sys.stderr)
        return 2
    try:
        bounds, credentials = limits.from_args(args), credentials_from_env()
    except (ValueError, AuthConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a retraining's calls to Label Studio: not one line each
    from .jobs import Settings
    from .server import make_server
    retrain = Settings(project=args.project or os.environ.get("LABEL_STUDIO_PROJECT"), repeats=args.repeats,
                       cooldown=args.cooldown, retrain_every=args.retrain_every)
    try:
        server = make_server(args.host, args.port, args.label_studio_url, args.store, args.folds,
                             model_dir=args.model_dir, threads=args.threads, timeout=args.timeout,
                             max_body=args.max_body_mb * 2**20, connection_limit=args.max_connections, limits=bounds,
                             credentials=credentials, retrain=retrain, reload_interval=args.reload_interval)
    except AuthConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot listen on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 2
    _warm_up(server.app.analyzer)
    signal.signal(signal.SIGTERM, _stop)
    print(f"kzclassify ML backend on http://{server.effective_host}:{server.effective_port}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.app.trainer.stop()
        server.close()
    return 0


def _stop(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the server as Ctrl-C does


def _warm_up(analyzer) -> None:
    """Load the models before the first request; a failure is logged and /predict answers 503 until fixed."""
    import kzclassify
    try:
        analyzer.load()
    except kzclassify.ModelError as e:
        logging.getLogger("kzclassify.backend").error("models not loaded: %s", e)


if __name__ == "__main__":
    sys.exit(main())
