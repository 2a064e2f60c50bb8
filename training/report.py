"""Plain-text tables of a run's figures (printed, and pasted into the README)."""
from __future__ import annotations


def _table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(f"{x:.3f}" if isinstance(x, float) else str(x) for x in r) + " |")
    return "\n".join(out)


def release_type_tables(r) -> str:
    rows = [[n, m["cv"]["accuracy"], m["cv"]["macro_f1"], m["test"]["accuracy"], m["test"]["macro_f1"]]
            for n, m in r.table.items()]
    s = [f"Release type — run {r.run_id}, {r.model_name} v{r.version}, chosen: {r.chosen}", "",
         _table(["model", "CV accuracy", "CV macro-F1", "test accuracy", "test macro-F1"], rows), "",
         f"Shipped model ({r.chosen}), cross-validation per class (ECE {r.shipped['ece']:.3f}):", ""]
    pc = r.shipped["cv"]["per_class"]
    s.append(_table(["class", "precision", "recall", "F1", "support"],
                    [[l, v["precision"], v["recall"], v["f1"], v["support"]] for l, v in pc.items()]))
    return "\n".join(s)


def print_release_type(r) -> None:
    print(release_type_tables(r))


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


def print_quotes(r) -> None:
    print(quotes_tables(r))
