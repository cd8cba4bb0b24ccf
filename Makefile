# Two commands: `make demo` runs the whole pipeline on embedded defaults; `make test` checks the code (ruff,
# import-linter's layer contracts, mypy) and runs every test. Both create the virtual environment (.venv) and
# install Vigil first. `make test-fast` runs the unit tests alone (under a minute).
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch goes in first, so that nothing later pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: install demo lint test test-fast import-graph audit lock bench bench-indexing bench-scaleout bench-inference bench-crawl bench-extraction quality clean

install: $(VENV)/.installed

# pip says what it collects and installs, so a first run (several minutes) is never silent.
$(VENV)/.installed: pyproject.toml
	@echo "==> [1/3] Creating the virtual environment $(VENV)"
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> [2/3] Installing $(TORCH), the CPU build, before anything can pull a CUDA one"
	$(PY) -m pip install --progress-bar on "$(TORCH)"
	@echo "==> [3/3] Installing Vigil and its dependencies (a few minutes on a fresh machine)"
	$(PY) -m pip install --progress-bar on -e '.[test]'
	@echo "==> Installed; later runs skip this step until pyproject.toml changes"
	touch $@

demo: install
	$(VENV)/bin/vigil demo

# Lint, the layers (pyproject.toml's [tool.importlinter]: vigil over the stages over streams; inference
# never imports training) and types on the backbone and the stage interfaces.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Starts the test servers (tansu for Kafka, osmem-server for Elasticsearch) on free loopback
# ports from the test fixtures, and stops them afterwards.
test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Which package imports which (the layers the lint target enforces).
import-graph: install
	$(PY) tools/import_graph.py

# Pure logic and tiny random models: no servers, no real model, no ONNX export.
test-fast: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# Known vulnerabilities in the locked dependencies (requirements.lock, written by `make lock` from a fresh
# install). pip-audit asks PyPI's JSON API, which needs the internet: a target of its own, since CI here has
# only a package mirror. --strict fails when a package could not be checked, rather than passing silently.
audit: install
	$(VENV)/bin/pip-audit --requirement requirements.lock --no-deps --disable-pip --strict --progress-spinner off

lock: install
	$(VENV)/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) .vigil .pytest_cache

# Each prints its figures and the ratio to a baseline measured in the same run.
bench: install
	$(PY) bench/pipeline.py

bench-indexing: install
	$(PY) bench/indexing.py

bench-scaleout: install
	$(PY) bench/scaleout.py

bench-inference: install
	$(PY) bench/inference.py

bench-crawl: install
	$(PY) bench/crawl.py

bench-extraction: install
	$(PY) bench/extraction.py

# The quality goals, reproduced on ../shared/data: reports (Markdown, HTML, JSON, PNG) under reports/.
QUALITY_MODEL := .vigil/quality/stormfront-model
quality: install
	$(VENV)/bin/vigil train --data stormfront:train --augment-counter-speech --train-layers 3 \
		--name stormfront-cs --output $(QUALITY_MODEL)
	$(VENV)/bin/vigil evaluate --model $(QUALITY_MODEL) --data stormfront:test --report reports/stormfront-test
	$(VENV)/bin/vigil evaluate --model $(QUALITY_MODEL) --data hatecheck --report reports/stormfront-model-on-hatecheck
	$(VENV)/bin/vigil evaluate --data checks --report reports/default-model-on-checks
