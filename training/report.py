"""Plain-text tables of a run's figures (printed, and pasted into the README)."""
from __future__ import annotations


def _table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(f"{x:.3f}" if isinstance(x, float) else str(x) for x in r) + " |")
    return "\n".join(out)


def _pm(m: dict, k: str) -> str:
    return f"{m[k]:.3f} ± {m[k + '_std']:.3f}"


def release_type_tables(r) -> str:
    rows = [[n, _pm(m["cv"], "accuracy"), _pm(m["cv"], "macro_f1"), m["cv"]["min_class_f1"],
             f"{r.paired[n]['macro_f1']:+.3f} [{r.paired[n]['macro_f1_min']:+.3f}, {r.paired[n]['macro_f1_max']:+.3f}]",
             m["test"]["accuracy"], m["test"]["macro_f1"]]
            for n, m in r.table.items()]
    before = r.before
    s = [f"Release type — run {r.run_id}, {r.model_name} v{r.version}, chosen: {r.chosen}", "",
         f"CV: {r.folds}-fold by release id (training.folds) repeated {r.repeats}× (different seeds, the same folds for every model); "
         f"mean ± standard deviation over the repeats; Δ macro-F1: paired difference to `{before}` "
         "(mean [min, max] over the repeats). Test: the fixed split, models fitted on train+validation. Shipped: "
         "the cheapest candidate within 0.005 of the best mean CV macro-F1 (less than the spread across repeats).", "",
         _table(["model", "CV accuracy", "CV macro-F1", "CV min class F1", "Δ macro-F1 vs before",
                 "test accuracy", "test macro-F1"], rows), "",
         f"Shipped model ({r.chosen}), cross-validation per class, mean over the repeats (ECE {r.shipped['ece']:.3f}):", ""]
    pc = r.shipped["cv"]["per_class"]
    s.append(_table(["class", "precision", "recall", "F1", "F1 std", "support"],
                    [[l, v["precision"], v["recall"], v["f1"], v["f1_std"], v["support"]] for l, v in pc.items()]))
    t = r.shipped["test"]
    s += ["", f"Shipped model on the test split (fitted on train+validation), per class; macro-F1 "
          f"{t['macro_f1']:.3f} over the {len(t['labels_scored'])} classes present"
          + (f" (absent: {', '.join(t['absent'])})" if t.get("absent") else "") + ":", ""]
    s.append(_table(["class", "precision", "recall", "F1", "support"],
                    [[l, v["precision"], v["recall"], v["f1"], v["support"]] for l, v in t["per_class"].items()
                     if v["support"]]))
    if r.families:
        s += ["", f"CV errors by family (first repeat), before (`{before}`) and after (`{r.chosen}`):", ""]
        s.append(_table(["family", "before", "after"],
                        [[f, v["before"], v["after"]] for f, v in sorted(r.families.items(), key=lambda kv: -kv[1]["before"])]
                        + [["all", sum(v["before"] for v in r.families.values()),
                            sum(v["after"] for v in r.families.values())]]))
    if r.curve:
        s += ["", f"Learning curve of {r.chosen}: the same repeated CV with each training fold cut to a stratified "
              "share (the test folds stay whole):", ""]
        s.append(_table(["share of a training fold", "releases trained on", "CV macro-F1", "CV accuracy",
                         "CV min class F1"],
                        [[f"{c['fraction']:.0%}", c["n_train"], _pm(c, "macro_f1"), _pm(c, "accuracy"),
                          c["min_class_f1"]] for c in r.curve]))
    return "\n".join(s)



def quotes_tables(r) -> str:
    head = ["system", "quotes P", "quotes R", "quotes F1 (exact)", "F1 (token)", "speaker acc", "end-to-end F1"]
    rows = []
    for name, by_kind in r.table.items():
        m = by_kind["all"]
        rows.append([name, m["exact_p"], m["exact_r"], m["exact_f1"], m["token_f1"], m["speaker_acc_exact"], m["e2e_f1"]])
    s = [f"Quotes — run {r.run_id}, {r.model_name} v{r.version}", "", _table(head, rows), "", "By quote kind (shipped system):", ""]
    kinds = r.table[r.chosen]
    s.append(_table(["kind", "gold", "pred", "F1 (exact)", "speaker acc", "end-to-end F1"],
                    [[k, m["gold_quotes"], m["pred_quotes"], m["exact_f1"], m["speaker_acc_exact"], m["e2e_f1"]]
                     for k, m in kinds.items()]))
    return "\n".join(s)



def calibration_section(cal: dict | None, what: str) -> str:
    """The calibrated score and the review flag of a run (the card's section; figures from the run)."""
    if not cal:
        return ""
    h = cal["held_out"]
    held = (f"{h['accuracy']:.4f} (worst repeat {h['accuracy_min']:.4f}) at coverage {h['coverage']:.1%}"
            if h["accuracy"] == h["accuracy"] else "not reached on any fold")
    in_cv = (f"accuracy {cal['accuracy']:.4f} on the {cal['coverage']:.1%} not flagged" if cal["accuracy"] is not None
             else "no threshold reaches it: every item is flagged")
    return "\n".join([
        "", f"## Calibrated score and review flag ({what})", "",
        f"The score is the probability that the {what} is right: the model's raw score through a "
        f"`{cal['method']}` calibrator (chosen by repeated-CV log loss among "
        + ", ".join(f"{k} {v:.4f}" for k, v in cal["log_loss"].items())
        + "), fitted on out-of-fold predictions and applied by kzclassify with numpy "
          "(`calibration.json` beside the model; its sha256 in the manifest).", "",
        _table(["", "ECE (10 bins, mean over repeats)", "worst repeat"],
               [["raw score", cal["raw_ece"], ""], ["calibrated (cross-fitted)", cal["ece"], cal["ece_max"]]]), "",
        f"Review flag: default target {cal['target']} accuracy on what is not flagged → threshold "
        f"{cal['threshold']:.3f}; in repeated CV {in_cv}. Held out (threshold chosen on the other folds, "
        f"applied to the fold): {held}. Calibrator parity, sklearn vs numpy on the corpus: max |diff| "
        f"{cal['parity']['max_abs_diff']:.1e} over {cal['parity']['n']} scores.", "",
        "![reliability](reliability.png)  ![risk–coverage](risk_coverage.png)"])


def _card(title: str, body: str, run_id: str) -> str:
    import datetime as dt
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"# {title}\n\nGenerated by `python -m training` from MLflow run `{run_id}` on {when}; "
            f"do not edit by hand.\n\n{body}\n")


def release_type_card(r) -> str:
    from .review import load_review
    review = load_review()
    fams = "\n".join(f"- `{k}`: {v}" for k, v in review["families"].items())
    return _card("Release-type model card", release_type_tables(r)
                 + "\n\nError families (`training/release_type_review.json`: "
                 f"{len(review['reviewed'])} releases: every CV error of the previous model outside the test split "
                 "and the further errors of this issue's first model, each read against the guide and the "
                 "annotator's note; errors on other releases count as `unreviewed`, errors on the test split were "
                 "not read):\n\n" + fams
                 + "\n\nInput: `kzclassify._features.type_input` (the guide's lead cues as `kw_` tokens; the "
                   "lead's structure as tokens: opening words, the first sentence's closing predicate, which cue "
                   "classes fire in the opening, the predicate, the first sentence and the body, the guide's "
                   "precedence over the lead's cues, the events the text names as its setting (`… барысында`), "
                   "paragraph openings, the last paragraph's opening word and cue classes; the lead words tagged `l_`; "
                   "the lead; the first 800 characters of the body)."
                 + calibration_section(r.shipped.get("calibration"), "release type"), r.run_id)


def quotes_card(r) -> str:
    return _card("Quote and speaker model card", quotes_tables(r)
                 + "\n\nQuote detection is the rule system of kzclassify/_quotes.py in both rows; the rows differ "
                   "in how a quote's speaker mention is chosen (rules: the tail mention, else the nearest one "
                   "before; ranker: the trained ONNX ranker). Speaker accuracy is on exactly matched quotes; "
                   "end-to-end counts a quote right when span and canonical speaker are both right. "
                   "5-fold over releases: the ranker never saw the scored release, and the name word lists "
                   "(training.gazetteer) were grown inside each fold from its training releases outside the "
                   "test split. Untouched: the test-split releases (never read while writing rules); the "
                   "holdout row fits lists and ranker on train+validation and scores the test split."
                 + calibration_section(r.calibration, "speaker"), r.run_id)
