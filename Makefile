# Two commands for a fresh machine:  make demo  and  make test  (each creates .venv if it is missing).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: lint demo publish test test-ipywidgets7 benchmark notebooks-strip notebooks slides book course

# --no-cache-dir: PyTorch's CUDA build is about 4 GB of wheels; pip's cache would keep a second copy on disk.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-cache-dir -e '.[dev,course]'
	touch $@

# What the course makes on a laptop CPU in about a minute, in one picture, outputs/demo.png: the bundled cat photo
# in the style of The Starry Night by the seed configuration (128 px, 300 steps) and at 512 px by the fastest route
# benchmarks/RESULTS.md found (one scale stopped at tol 0.005, bfloat16 where the CPU has it). The last line says
# what was made, how and how long it took; outputs/demo.json has the details.
demo: $(VENV)/.installed
	mkdir -p outputs
	$(PY) -m nst_helpers demo --force -o outputs/demo.png --report outputs/demo.json

# Publish the course under your own GitHub repository: every Colab badge and install cell points there.
# make publish REPO=owner/name [BRANCH=main]
publish: $(VENV)/.installed
	$(PY) tools/publish.py $(REPO) --branch $(or $(BRANCH),main)

# ipywidgets 7 (what Colab ships) beside the venv's 8, for a second run of the laboratory's tests.
IPYWIDGETS7 := .cache/ipywidgets7
$(IPYWIDGETS7)/.installed: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps --target $(IPYWIDGETS7) \
		"ipywidgets>=7.7,<8" "widgetsnbextension>=3.6,<4" "jupyterlab_widgets>=1,<3" ipython_genutils
	touch $@

# Unit tests, every notebook in fast mode, the browser tests of the laboratory, then the
# laboratory's tests again with ipywidgets 7.
test: $(VENV)/.installed $(IPYWIDGETS7)/.installed
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-ipywidgets7

test-ipywidgets7: $(IPYWIDGETS7)/.installed
	NST_EXPECT_IPYWIDGETS=7 PYTHONPATH=$(IPYWIDGETS7) $(PY) -m pytest -q -p no:cacheprovider tests/test_lab.py

# The performance report benchmarks/RESULTS.md (weights from --weights, $NST_VGG19_WEIGHTS or ../shared's stand-in).
benchmark: $(VENV)/.installed
	$(PY) -m benchmarks.run

# Each notebook's source is notebooks/NN_name.md (MyST Markdown): render the shared opening into every .md and
# write every .ipynb from its .md, stripped (tools/notebooks.py). An .ipynb saved after its .md (in Jupyter)
# wins: its cells go into the .md first. NOTEBOOKS="02 09" syncs only those.
notebooks: $(VENV)/.installed
	$(PY) tools/notebooks.py sync $(NOTEBOOKS)

# The same: make notebooks writes every .ipynb without outputs and execution counts.
notebooks-strip: notebooks

# The executed course as offline lecture decks (build/slides/index.html) and as a static website
# (build/book/_build/html/index.html); make course builds both. The notebooks are executed once, into
# build/executed/, and reused by the next build while their sources, the package and the mode are unchanged
# (tools/build_course.py --fresh executes them again). At the notebooks' defaults; NST_FAST=1 builds them in
# fast mode (as CI does, in tests/browser/test_course_build.py). npm fetches reveal.js and MathJax once.
slides: $(VENV)/.installed
	$(PY) tools/build_course.py slides

book: $(VENV)/.installed
	$(PY) tools/build_course.py book

course: $(VENV)/.installed
	$(PY) tools/build_course.py both

# Lint and format check of the package, tests, tools, benchmarks and notebooks (ruff, configured in pyproject.toml).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
