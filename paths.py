"""Where the project's files are, named once (labeling, training, the backend, tests and benchmarks read them here)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "data" / "akorda_kk.txt"
LABELING = ROOT / "labeling"
CONFIG = LABELING / "config.xml"
GUIDE = LABELING / "GUIDE.md"
EXPORT = LABELING / "annotations" / "export.json"
MODELS = ROOT / "models"
MLRUNS = ROOT / "mlruns"
OUT = ROOT / "out"
PULLED = OUT / "export.json"  # where `labeling pull` writes unless told otherwise (never the committed dataset)
