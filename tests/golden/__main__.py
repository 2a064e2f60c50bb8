"""``python -m tests.golden [--update]``: print the golden run's figures and what differs from
tests/golden/golden.json; with ``--update`` rewrite the file (commit it with a message explaining the change)."""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: paths, training, labeling

from tests.golden import GOLDEN, changed, golden_run, stored, write  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.golden", description=__doc__)
    ap.add_argument("--update", action="store_true", help=f"rewrite {GOLDEN.name} from a fresh run")
    args = ap.parse_args()
    new = golden_run()
    print(json.dumps(new["figures"], indent=1))
    if GOLDEN.exists():
        diff = changed(stored(), new)
        same = stored()["sha256"] == new["sha256"]
        print(f"sha256 {new['sha256']} ({'unchanged' if same else 'CHANGED'}); "
              + ", ".join(f"{len(v)} {k}" for k, v in diff.items()))
        for k, ids in diff.items():
            if ids:
                print(f"{k}: {' '.join(ids)}")
    if args.update:
        write(new)
        print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
