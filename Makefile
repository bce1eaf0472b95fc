# Two commands do everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLE := build/sample.mp4

.PHONY: install install-dev setup demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

# Tests train a tiny model too (the train extra: torch) and check the dlib fallback detector.
install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[test,train,dlib]'

# The face detector and mesh models come from the official mediapipe wheel (checked by sha256).
setup: install
	$(BIN)/facecue setup --sample $(SAMPLE)

demo: setup
	$(BIN)/facecue analyze $(SAMPLE) -o build/demo
	@echo "open build/demo/report.html"

test: install-dev
	$(BIN)/facecue setup
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/facecue setup --sample $(SAMPLE)
	$(BIN)/python bench/run.py

clean:
	rm -rf build .pytest_cache
