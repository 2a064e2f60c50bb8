"""The package version (one place; the wheel metadata and `kzclassify --version` read it).

``BASE`` is the code's version. A wheel carrying retrained models is ``BASE.post<N>``, N the models' generation
(``model_generation`` in the shipped manifests, one more at every retraining, see training/registry.py), so
``pip install`` of a newer retrained wheel upgrades (PEP 440 orders 0.1.0 < 0.1.0.post1 < 0.1.0.post2 < 0.1.1).
Read from the manifests beside this file (in the wheel) or in the repository's models/ (a checkout); hatch runs
this file to version the wheel (pyproject.toml: ``source = "code"``), so it imports nothing but the stdlib.
"""
import json
from pathlib import Path

BASE = "0.1.0"
SLOTS = ("release_type", "quote_speaker")


def model_generation() -> int:
    """The shipped models' generation (the smaller of the two manifests'; 0 when none records one)."""
    here = Path(__file__).resolve().parent
    for root in (here / "models", here.parent / "models"):
        if not root.is_dir():
            continue
        gens = []
        for slot in SLOTS:
            try:
                g = json.loads((root / slot / "manifest.json").read_text(encoding="utf-8")).get("model_generation", 0)
            except (OSError, ValueError, AttributeError):
                g = 0
            gens.append(g if isinstance(g, int) and g > 0 else 0)
        return min(gens)
    return 0


def package_version(base: str = BASE, generation: int | None = None) -> str:
    g = model_generation() if generation is None else generation
    return f"{base}.post{g}" if g else base


__version__ = package_version()
