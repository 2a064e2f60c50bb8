# Two entry points: `make run` (train → MLflow → ONNX → predict) and `make test`.
PY ?= python3
VENV := .venv
LSVENV := .venv-ls
BIN := $(VENV)/bin

.PHONY: run test venv lsvenv clean bench sysdeps

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[train,label,backend,dev,transformer,train-transformer,spark,browse]'
	touch $@

# Label Studio server in its own venv: it pins Django and friends that would fight MLflow's pins.
$(LSVENV)/bin/label-studio:
	$(PY) -m venv $(LSVENV)
	$(LSVENV)/bin/pip install -q label-studio==1.23.2

venv: $(BIN)/.installed
lsvenv: $(LSVENV)/bin/label-studio

# System packages: Java 17 for Spark (python -m training score, tests/test_spark.py), chromium for the
# browser test. Installs only what is missing; apt-get update only then.
sysdeps:
	@missing=""; \
	command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "installing:$$missing"; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

run: sysdeps venv
	mkdir -p out
	$(BIN)/python -m training all
	$(BIN)/kzclassify analyze data/akorda_kk.txt > out/predictions.jsonl
	@echo "predictions: out/predictions.jsonl ($$(wc -l < out/predictions.jsonl) releases)"

test: sysdeps venv lsvenv
	KZ_LABEL_STUDIO_BIN=$(CURDIR)/$(LSVENV)/bin/label-studio $(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) $(LSVENV) build dist
