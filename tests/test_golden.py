"""The shipped pipeline on the 393 annotated releases: figures against the annotations never fall below
today's floors, and the output is byte-for-byte the stored one (tests/golden/golden.json) unless regenerated
on purpose with ``python -m tests.golden --update`` (see tests/golden/__init__.py)."""
import pytest

from golden import annotated_rows, changed, digests, figures, run, stored

# Today's figures of Analyzer(models/) against labeling/annotations/export.json (python -m tests.golden prints them).
# Raise a floor when the pipeline gets better; lowering one is a decision to explain in the commit.
FLOORS = {
    # 392 of 393 since release 6bc954cd was relabelled other → visit (the guide's joint-statement rule, commit
    # 91373bb); the shipped model was trained before and still says other. Retraining should bring 393 back.
    "release_type_accuracy": 392 / 393,
    "quote_exact_f1": 0.995114006514658,  # 611 exact spans of 613 predicted, 615 annotated
    # 588 of 611: analysed without dates, 19 quotes in releases that name no president and carry no era cue
    # keep the title as the role ("Мемлекет басшысы", low score); the annotators followed the guide's earlier
    # default (Nazarbayev) for 16 of them. Before the date rule: 604 / 611 and e2e F1 0.9837.
    "speaker_accuracy_exact": 588 / 611,
    "e2e_f1": 0.9576547231270359,  # 588 spans with the right speaker
}


@pytest.fixture(scope="module")
def golden():
    rows = annotated_rows()
    outputs = run(rows)
    whole, per = digests(rows, outputs)
    return {"rows": rows, "outputs": outputs, "figures": figures(rows, outputs), "sha256": whole, "releases": per}


def test_the_annotations_are_the_393_releases(golden):
    assert golden["figures"]["releases"] == 393


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_figure_holds_its_floor(golden, name):
    got = golden["figures"][name]
    assert got >= FLOORS[name] - 1e-12, f"{name} fell to {got:.6f} from {FLOORS[name]:.6f}: {golden['figures']}"


def test_output_is_the_stored_golden_output(golden):
    old = stored()
    if golden["sha256"] == old["sha256"]:
        return
    diff = changed(old, golden)
    rows = {r["id"]: (r, o) for r, o in zip(golden["rows"], golden["outputs"])}
    lines = []
    for rid in diff["changed"][:20]:
        r, o = rows[rid]
        speakers = ", ".join(q["speaker"] for q in o["quotes"]) or "no quotes"
        lines.append(f"  {rid}  {o['release_type']['label']}: {speakers}  | {r['text'][:70]!r}")
    more = len(diff["changed"]) - len(lines)
    pytest.fail(
        f"the output on the annotated releases changed (sha256 {old['sha256'][:12]} -> {golden['sha256'][:12]}): "
        f"{len(diff['changed'])} releases changed, {len(diff['new'])} new, {len(diff['gone'])} gone\n"
        + "\n".join(lines) + (f"\n  ... and {more} more" if more > 0 else "")
        + f"\nfigures now: {golden['figures']}\nfigures stored: {old['figures']}\n"
        "If the change is deliberate: python -m tests.golden --update, and commit tests/golden/golden.json "
        "with a message that explains it.", pytrace=False)
