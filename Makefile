# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLE := build/sample.mp4

.PHONY: install install-dev install-service setup demo test lint bench clean admin serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

# Tests train a tiny model too (the train extra: torch) and check the dlib fallback detector.
install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[test,train,dlib,service,ray]'

# The face detector and mesh models come from the official mediapipe wheel (checked by sha256).
setup: install
	$(BIN)/facecue setup --sample $(SAMPLE)

# Every analysis of a person states its purpose and jurisdiction: the demo is the sample's own practice run,
# under the consent record it gives first.
demo: setup
	rm -f build/demo-consent.json  # the demo's own record, made anew: `consent record` never overwrites a file
	$(BIN)/facecue consent record --purpose practice --jurisdiction OTHER --controller "facecue demo" \
		--subject demo-sample -o build/demo-consent.json
	$(BIN)/facecue analyze $(SAMPLE) -o build/demo --purpose practice --jurisdiction OTHER \
		--consent build/demo-consent.json
	@echo "open build/demo/report.html"

# The review service with its embedded defaults (SQLite and media in ~/.local/share/facecue):
# `make admin ORG="Acme Hiring" EMAIL=you@example.com` (asks for a password), then `make serve`.
install-service: $(BIN)/python
	$(BIN)/pip install -q -e '.[service]'
	$(BIN)/facecue setup

admin: install-service
	$(BIN)/facecue users create --org "$(ORG)" --email "$(EMAIL)" --role admin

serve: install-service
	$(BIN)/facecue serve

test: install-dev
	$(BIN)/facecue setup
	$(BIN)/python -m pytest

# Style and types: ruff's rules and formatter over the code, mypy over the core packages (the files and settings are
# in pyproject.toml's [tool.ruff] and [tool.mypy]). The versions are pinned so every machine reads the same rules;
# keep RUFF_VERSION equal to the `rev` in .pre-commit-config.yaml.
RUFF_VERSION := 0.17.6
MYPY_VERSION := 2.4.1
LINT_PATHS   := src tests bench

lint: install
	$(BIN)/pip install -q "ruff==$(RUFF_VERSION)" "mypy==$(MYPY_VERSION)"
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

bench: install-dev
	$(BIN)/facecue setup --sample $(SAMPLE)
	$(BIN)/python bench/run.py

clean:
	rm -rf build .pytest_cache
