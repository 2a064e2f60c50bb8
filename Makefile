# Two entry points: `make run` (train → MLflow → ONNX → predict) and `make test`.
PY ?= python3
VENV := .venv
LSVENV := .venv-ls
BIN := $(VENV)/bin

.PHONY: run test venv lsvenv clean bench

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[train,label,backend,dev,transformer,train-transformer]'
	touch $@

# Label Studio server in its own venv: it pins Django and friends that would fight MLflow's pins.
$(LSVENV)/bin/label-studio:
	$(PY) -m venv $(LSVENV)
	$(LSVENV)/bin/pip install -q label-studio==1.23.2

venv: $(BIN)/.installed
lsvenv: $(LSVENV)/bin/label-studio

run: venv
	mkdir -p out
	$(BIN)/python -m training all
	$(BIN)/kzclassify analyze data/akorda_kk.txt > out/predictions.jsonl
	@echo "predictions: out/predictions.jsonl ($$(wc -l < out/predictions.jsonl) releases)"

test: venv lsvenv
	KZ_LABEL_STUDIO_BIN=$(CURDIR)/$(LSVENV)/bin/label-studio $(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) $(LSVENV) build dist
