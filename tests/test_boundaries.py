"""kzclassify stays light: importing and running it loads no training, labeling or heavy ML code."""
import json
import subprocess
import sys

from conftest import ROOT

HEAVY = ("sklearn", "mlflow", "torch", "transformers", "datasets", "skl2onnx", "labeling", "training",
         "label_studio_sdk")

CHECK = f"""
import sys, json
import kzclassify
a = kzclassify.analyze("Мемлекет басшысы кездесті.\\n– Жақсы, – деді Нұрсұлтан Назарбаев.")
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules or any(k.startswith(m + '.') for k in sys.modules))))
"""


def test_kzclassify_imports_nothing_heavy():
    out = subprocess.run([sys.executable, "-c", CHECK], cwd="/", capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_kzclassify_source_never_imports_training_or_labeling():
    for f in (ROOT / "kzclassify").rglob("*.py"):
        src = f.read_text(encoding="utf-8")
        for bad in ("import training", "from training", "import labeling", "from labeling", "import sklearn", "from sklearn", "import mlflow"):
            assert bad not in src, (f, bad)
