# Two commands for a fresh machine:  make demo  and  make test  (each creates .venv if it is missing).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test benchmark notebooks-strip

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Stylise the bundled example (a cat photo in the style of The Starry Night) into outputs/demo.png.
demo: $(VENV)/.installed
	mkdir -p outputs
	$(PY) -m nst_helpers --force -o outputs/demo.png --report outputs/demo.json

# Unit tests, every notebook in fast mode, and the browser test of the laboratory.
test: $(VENV)/.installed
	$(PY) -m pytest

# The performance report benchmarks/RESULTS.md (weights from --weights, $NST_VGG19_WEIGHTS or ../shared's stand-in).
benchmark: $(VENV)/.installed
	$(PY) -m benchmarks.run

# Remove outputs and execution counts from the notebooks before committing.
notebooks-strip: $(VENV)/.installed
	$(PY) tools/strip_notebooks.py notebooks/*.ipynb
