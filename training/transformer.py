"""Fine-tune a local transformer checkpoint as the release-type classifier (optional path).

``python -m training transformer --base-model PATH``: the same dataset, the same
fixed split and k-fold protocol and the same metrics as the sklearn models,
logged to MLflow and registered as ``kzclassify-release-type-transformer``;
exported to ONNX with its ``tokenizer.json`` so ``kzclassify`` can serve it
(``pip install kzclassify[transformer]`` adds the ``tokenizers`` library).
Nothing is downloaded: the checkpoint and tokenizer must be on disk.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kzclassify._features import transformer_input
from labeling.schema import schema
from paths import MODELS

from . import evaluate, tracking

MODEL_NAME = "kzclassify-release-type-transformer"
EXPERIMENT = "release-type-transformer"


@dataclass
class Result:
    run_id: str
    version: str
    cv: dict
    test: dict
    model_dir: Path


def _fit(base_model: Path, texts, labels, label_list, epochs, batch_size, lr, max_length, seed=0):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(base_model, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        base_model, num_labels=len(label_list), id2label=dict(enumerate(label_list)),
        label2id={l: i for i, l in enumerate(label_list)}, local_files_only=True, ignore_mismatched_sizes=True)
    y = torch.tensor([label_list.index(l) for l in labels])
    # class weights: the rare types (award, ceremony, other) count more
    counts = np.bincount(y.numpy(), minlength=len(label_list)).astype(float)
    weights = torch.tensor(np.where(counts > 0, len(y) / (len(label_list) * np.maximum(counts, 1)), 0.0),
                           dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    model.train()
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(texts), generator=g).tolist()
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            enc = tok([texts[i] for i in idx], truncation=True, max_length=max_length, padding=True,
                      return_tensors="pt")
            out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
            loss = loss_fn(out.logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return tok, model


def torch_proba(tok, model, texts, max_length, batch_size=16) -> np.ndarray:
    import torch
    out = []
    with torch.no_grad():
        for b in range(0, len(texts), batch_size):
            enc = tok(texts[b:b + batch_size], truncation=True, max_length=max_length, padding=True,
                      return_tensors="pt")
            logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
            out.append(torch.softmax(logits, -1).numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.num_labels))


def export_onnx(tok, model, out: Path, label_list, max_length: int, metadata: dict) -> dict:
    """Write model.onnx (input_ids, attention_mask → logits), tokenizer.json and a manifest."""
    import torch

    from kzclassify._model import file_sha256

    from .export import write_model_dir

    out.mkdir(parents=True, exist_ok=True)
    dummy = tok(["мәтін"], return_tensors="pt")
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / "model.onnx"
        torch.onnx.export(model, (dummy["input_ids"], dummy["attention_mask"]), str(path),
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        "logits": {0: "batch"}}, opset_version=17, dynamo=False)
        import onnx

        from .export import add_metadata
        onx = add_metadata(onnx.load(str(path)), {"labels": json.dumps(label_list, ensure_ascii=False), **metadata})
        data = onx.SerializeToString()
    tok.backend_tokenizer.save(str(out / "tokenizer.json"))
    return write_model_dir(out, data, {
        "name": "release_type", "kind": "transformer-classifier", "input": "transformer_input",
        "tokenizer": "tokenizer.json", "tokenizer_sha256": file_sha256(out / "tokenizer.json"),
        "max_length": max_length, "labels": label_list,
        "pad_id": tok.pad_token_id or 0, **metadata})


def train(base_model: str | Path, export_path=None, store=None, folds: int = 5, epochs: int = 3,
          batch_size: int = 16, lr: float = 5e-5, max_length: int = 256, limit: int | None = None,
          out: Path | None = None, register: bool = True) -> Result:
    """Cross-validate, fit on all data, export to ONNX (``out``), log and register in MLflow."""
    import mlflow
    from sklearn.model_selection import StratifiedKFold

    from .data import DEFAULT_EXPORT, all_rows, build_dataset, digest, per_type_slice

    base_model = Path(base_model)
    if not (base_model / "config.json").is_file():
        raise ValueError(f"{base_model}: not a local transformers checkpoint (no config.json)")
    rows = per_type_slice(all_rows(build_dataset(export_path or DEFAULT_EXPORT)), limit)
    label_list = list(schema().types)
    texts = [transformer_input(r["text"]) for r in rows]
    y = np.array([r["release_type"] for r in rows])
    split = np.array([r["split"] for r in rows])
    params = {"base_model": str(base_model), "epochs": epochs, "batch_size": batch_size, "lr": lr,
              "max_length": max_length, "folds": folds, "n_releases": len(rows)}
    tracking.setup(EXPERIMENT, store)
    with mlflow.start_run(run_name=f"transformer-{time.strftime('%Y%m%d-%H%M%S')}") as run:
        mlflow.set_tags({"git_commit": tracking.git_commit(), "stage": "release_type_transformer",
                         "data_digest": digest([{k: r[k] for k in ("id", "text", "release_type", "split")} for r in rows])})
        mlflow.log_params(params)
        pred = np.empty(len(rows), dtype=object)
        proba = np.zeros((len(rows), len(label_list)))
        min_class = min(np.unique(y, return_counts=True)[1])
        for tr, te in StratifiedKFold(min(folds, min_class), shuffle=True, random_state=0).split(texts, y):
            tok, model = _fit(base_model, [texts[i] for i in tr], y[tr], label_list, epochs, batch_size, lr, max_length)
            p = torch_proba(tok, model, [texts[i] for i in te], max_length)
            proba[te] = p
            pred[te] = np.array(label_list)[p.argmax(1)]
        cv = evaluate.classification_metrics(y, pred, label_list)
        fit = split != "test"
        tok, model = _fit(base_model, [t for t, m in zip(texts, fit) if m], y[fit], label_list, epochs, batch_size, lr, max_length)
        p = torch_proba(tok, model, [t for t, m in zip(texts, ~fit) if m], max_length)
        test = evaluate.classification_metrics(y[~fit], np.array(label_list)[p.argmax(1)], label_list)
        ece, _ = evaluate.expected_calibration_error(proba.max(1), pred == y)
        mlflow.log_metrics({"cv_accuracy": cv["accuracy"], "cv_macro_f1": cv["macro_f1"], "cv_ece": ece,
                            "test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"]})
        tok, model = _fit(base_model, texts, y, label_list, epochs, batch_size, lr, max_length)
        version = ""
        if register:
            with tempfile.TemporaryDirectory() as td:
                model.save_pretrained(td)
                tok.save_pretrained(td)
                mlflow.log_artifacts(td, artifact_path="hf_model")
            # a plain artifact directory, not an MLflow model flavour: register it by its artifact URI
            client = mlflow.MlflowClient()
            try:
                client.create_registered_model(MODEL_NAME)
            except mlflow.exceptions.MlflowException:
                pass  # already registered
            mv = client.create_model_version(MODEL_NAME, f"{run.info.artifact_uri}/hf_model", run.info.run_id)
            version = str(mv.version)
        out = out or MODELS / "release_type_transformer"
        manifest = export_onnx(tok, model, out, label_list, max_length, {
            "model_version": f"{MODEL_NAME}/{version or 'unregistered'}", "mlflow_run_id": run.info.run_id,
            "metrics": {"cv_accuracy": cv["accuracy"], "cv_macro_f1": cv["macro_f1"],
                        "test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"]}})
        mlflow.log_artifacts(str(out), artifact_path="onnx")
        return Result(run.info.run_id, version, cv, test, out)


def parity(tok, model, onnx_dir: Path, texts, max_length: int) -> dict:
    """PyTorch vs ONNX Runtime served through kzclassify's transformer path."""
    from kzclassify._model import load_model
    from kzclassify._transformer import transformer_proba
    m = load_model(onnx_dir.name, onnx_dir.parent)
    on = transformer_proba(m, texts)
    pt = torch_proba(tok, model, [transformer_input(t) for t in texts], max_length)
    return {"n": len(texts), "max_abs_diff": float(np.abs(pt - on).max()),
            "label_mismatches": int((pt.argmax(1) != on.argmax(1)).sum())}


def make_tiny_model(out: Path, corpus_texts: list[str], vocab_size: int = 2000) -> Path:
    """A tiny randomly initialised BERT + WordPiece tokenizer trained on ``corpus_texts`` (for tests)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    tk = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tk.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tk.train_from_iterator(corpus_texts, trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    from tokenizers.processors import TemplateProcessing
    tk.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[
        ("[CLS]", tk.token_to_id("[CLS]")), ("[SEP]", tk.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    fast.save_pretrained(out)
    cfg = BertConfig(vocab_size=tk.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, num_labels=len(schema().types))
    BertForSequenceClassification(cfg).save_pretrained(out)
    return out
