# Every target sets itself up: a fresh machine needs only python3 (3.11+) and Node.js.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= us-east-1
# Material for MkDocs prints a banner about its successor on every build; the site builds the same without it.
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup demo test suite lint typecheck unit integration infra chaos-quick synth lint-template docs bench bench-watch bench-hints bench-verification chaos clean

# uv (pinned) installs the pinned requirements several times faster than pip; the project itself is
# installed editable, so the CDK app imports the handler's settings declarations.
UV_VERSION := 0.13.8

$(BIN)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# Checkov in a virtualenv of its own: its pins (packaging<24) conflict with pytest's. No pip in it: the
# development virtualenv's uv installs it. Compiled once here: checkov imports every framework's checks
# (some 4,000 modules) on each run, about 12 s of compiling where PYTHONDONTWRITEBYTECODE is set.
CHECKOV_VENV := .venv-checkov

$(CHECKOV_VENV)/.installed: requirements-checkov.txt $(BIN)/.installed
	$(PYTHON) -m venv --without-pip $(CHECKOV_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed

demo: setup
	PYTHONPATH=functions $(BIN)/python -m local.demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/xenon --max-absolute B --max-modules B --max-average A functions infra
	$(BIN)/mkdocs build --strict --site-dir site  # not --quiet: MkDocs 1.6.1 then counts no warning (mkdocs#4126)

typecheck: setup
	$(BIN)/mypy

# The test layers. unit: the domain, poller and adapters over in-memory fakes, without moto (the
# conftest search stops at tests/unit). integration: the real handler, moto and the emulator, and the
# operator CLI against the emulator in server mode.
# infra: the CDK app synthesized, linted, evaluated and deployed into moto. chaos-quick: the fault suite.
unit: setup
	$(BIN)/pytest tests/unit --confcutdir=tests/unit

integration: setup
	$(BIN)/pytest -n 2 tests/integration tests/emulator tests/cli tests/bench

infra: setup
	$(BIN)/pytest -n 2 tests/infra

chaos-quick: setup
	$(BIN)/pytest -n 2 tests/chaos

# Every layer in one pytest run on both cores (faster than the four runs one after the other), with
# mypy beside it: the suite leaves about half a core idle, and a cold mypy takes a minute (aws_cdk).
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=target typecheck suite

suite: setup
	$(BIN)/pytest -n 2

synth: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --no-notices --quiet

# What `make test` checks on the test synths, on the templates `make synth` writes, in every supported Region.
lint-template: synth
	$(BIN)/cfn-lint --regions $$($(BIN)/python -c 'from infra.regions import ALL_SUPPORTED_REGIONS as r; print(*r)') \
		-- cdk.out/*.template.json

# The documentation site (mkdocs.yml, docs/): the settings, metrics and Regions tables written into its pages
# from the code (settings_spec.py, report.py, infra/regions.py), then the HTML site built into site/. Offline;
# --strict fails on a broken link, anchor or included file (make lint builds it too).
docs: setup
	PYTHONPATH=functions $(BIN)/python -m infra.docs
	$(BIN)/mkdocs build --strict --site-dir site

bench: setup
	PYTHONPATH=functions $(BIN)/python -m bench

# What `ami-store-notifier watch` spends of EC2's shared request budget (bench/WATCH.md), in seconds.
bench-watch: setup
	PYTHONPATH=functions $(BIN)/python -m bench.watch

# The Hints section of `make bench` on its own (bench/HINTS.md), about 3 minutes.
bench-hints: setup
	PYTHONPATH=functions:. $(BIN)/python -m bench.hints > bench/HINTS.md

# The archive verification section of `make bench` on its own (bench/VERIFICATION.md), about 2 minutes.
bench-verification: setup
	PYTHONPATH=functions:. $(BIN)/python -m bench.verification > bench/VERIFICATION.md

chaos: setup
	PYTHONPATH=functions $(BIN)/python -m tests.chaos.campaign --scenarios 1000 --strict

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules cdk.out site .pytest_cache .mypy_cache .ruff_cache .hypothesis
