"""Per-release time of extract_quotes and analyze for one source tree, to compare two revisions.

    git worktree add /tmp/before <rev>
    for i in 1 2; do
      (cd /tmp && PYTHONPATH=/tmp/before python $PWD/benchmarks/ab.py /tmp/before)
      (cd /tmp && PYTHONPATH=$PWD python $PWD/benchmarks/ab.py $PWD)
    done

Each tree runs in its own process (its own kzclassify and models); run them interleaved, as above.
"""
import sys
import time

from bench import best  # benchmarks/ is on the path when run as a script


def best_cpu(fn, repeat: int) -> float:
    """Least process time of ``repeat`` runs: less disturbed than wall time by other processes on the machine."""
    return best(fn, repeat, time.process_time)


def main(root: str) -> None:
    sys.path.insert(0, root)
    import kzclassify
    from kzclassify.corpus import read_corpus
    texts = [r.text for r in read_corpus(f"{root}/data/akorda_kk.txt")]
    kzclassify.analyze(texts[0])  # load the models
    q = best(lambda: [kzclassify.extract_quotes(t) for t in texts], 5) / len(texts)
    a = best(lambda: [kzclassify.analyze(t) for t in texts], 5) / len(texts)
    qc = best_cpu(lambda: [kzclassify.extract_quotes(t) for t in texts], 5) / len(texts)
    ac = best_cpu(lambda: [kzclassify.analyze(t) for t in texts], 5) / len(texts)
    print(f"{root}: extract_quotes {1000 * q:.3f} ms/release, analyze {1000 * a:.3f} ms/release (wall); "
          f"extract_quotes {1000 * qc:.3f}, analyze {1000 * ac:.3f} ms/release (process time)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
