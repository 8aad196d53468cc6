# Twilio SMS automation on AWS serverless.
#   make run    the whole stack on this machine (local AWS emulator + Twilio sandbox)
#   make test   install, lint, validate the template, run every test tier
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell tools/find-python.sh 3.12)
VENV := .venv
TOOLS_VENV := .venv-tools
UV := $(VENV)/bin/uv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
# The layer carries the whole locked runtime set, boto3 included: sam build would pull botocore
# in anyway (aws-xray-sdk needs it), and a layer botocore under the runtime's boto3 can break.
EXPORT_FLAGS := --frozen --no-dev --no-hashes --no-emit-project --no-header --quiet

.PHONY: help install tools lock requirements check-requirements lint format typecheck \
        validate-template test test-unit test-integration test-template build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml uv.lock
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 not found (see tools/find-python.sh)"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) sync --frozen --python $(VENV)/bin/python
	@touch $@

install: $(VENV)/.installed ## create .venv with the package (editable) and the sms-automation command

$(TOOLS_VENV)/.installed: tools/requirements-tools.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 not found (see tools/find-python.sh)"; exit 1; }
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tools/requirements-tools.txt
	@touch $@

tools: $(TOOLS_VENV)/.installed ## SAM CLI, aws-sam-translator, cfn-lint in their own venv (they pin pydantic)

lock: install ## re-resolve uv.lock after editing pyproject.toml, then regenerate the layer requirements
	$(UV) lock
	$(MAKE) requirements

requirements: install ## regenerate layers/common/requirements.txt from uv.lock
	$(UV) export $(EXPORT_FLAGS) -o layers/common/requirements.txt

check-requirements: install ## fail when uv.lock or the layer requirements drift from pyproject.toml
	$(UV) lock --check
	@tmp=$$(mktemp); $(UV) export $(EXPORT_FLAGS) -o $$tmp; \
	if ! diff -u layers/common/requirements.txt $$tmp; then \
	  echo "error: layers/common/requirements.txt is out of date: run 'make requirements'"; rm -f $$tmp; exit 1; fi; \
	rm -f $$tmp

lint: install ## ruff (lint + format check), mypy, and the import contracts (pyproject's [tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=layers/common:cli:local $(BIN)/lint-imports --no-cache --no-logo

format: install ## apply ruff formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

validate-template: tools checkov ## SAM transform, cfn-lint on the result, then checkov on it
	$(TOOLS_VENV)/bin/python tools/validate_template.py template.yaml
	$(TOOLS_VENV)/bin/python tools/checkov_template.py template.yaml --checkov $(CHECKOV_VENV)/bin/checkov

# checkov cannot share .venv-tools with SAM CLI (conflicting boto3 pins): its own venv.
CHECKOV_VENV := .venv-checkov
.PHONY: checkov

$(CHECKOV_VENV)/.installed: tools/requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 not found (see tools/find-python.sh)"; exit 1; }
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tools/requirements-checkov.txt
	@touch $@

checkov: $(CHECKOV_VENV)/.installed ## checkov in its own venv (pinned in tools/requirements-checkov.txt)

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration

test-template: install
	$(BIN)/pytest tests/template

# Twilio's OpenAPI spec and Stoplight Prism (npm, pinned by tools/twilio-spec/package-lock.json)
# for tests/contract. Without npm: an error in CI (CI set), a warning elsewhere (the tests skip).
TWILIO_SPEC := tools/twilio-spec
.PHONY: contract-deps test-contract

$(TWILIO_SPEC)/node_modules/.installed: $(TWILIO_SPEC)/package.json $(TWILIO_SPEC)/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ -n "$$CI" ]; then echo "error: npm not found: Node 20+ is needed for the contract tests"; exit 1; fi; \
	  echo "warning: npm not found: the contract tests will be skipped (install Node 20+)"; exit 0; \
	fi; \
	cd $(TWILIO_SPEC) && npm ci --ignore-scripts --no-audit --no-fund && touch node_modules/.installed

contract-deps: $(TWILIO_SPEC)/node_modules/.installed ## Twilio's OpenAPI spec + Prism for the contract tests (npm ci)

test-contract: install contract-deps ## requests and test-server answers against Twilio's OpenAPI spec (Prism)
	$(BIN)/pytest tests/contract

# The console's YAML editor: CodeMirror 6 + yaml + a JSON Schema validator, pinned by
# tools/console-editor/package-lock.json, bundled into console/vendor/ (committed: neither CI,
# make test nor the deploy needs Node). Rebuild after changing a version there.
CONSOLE_EDITOR := tools/console-editor
.PHONY: console-editor

console-editor: ## rebuild console/vendor/yaml-editor.bundle.js and its LICENSES.txt (npm ci, esbuild)
	cd $(CONSOLE_EDITOR) && npm ci --ignore-scripts --no-audit --no-fund && node build.mjs

test: install check-requirements contract-deps lint validate-template ## everything CI runs: install, lint, template validation, all tests
	$(BIN)/pytest

# ARCH: the Lambda architecture to build for; unset, the template's default (arm64). The build
# is pinned to it (tools/deploy.py pin-build): a deploy of it with another architecture is refused.
build: install tools ## sam build (ARCH=arm64 by default, ARCH=x86_64 to override), then the layer's size and largest packages
	PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(TOOLS_VENV)/bin/sam build $(if $(ARCH),--parameter-overrides Architecture=$(ARCH))
	@test -d .aws-sam/build/CommonLayer/python/sms_automation || { echo "error: layer lacks python/sms_automation"; exit 1; }
	@test -f .aws-sam/build/InboundWebhookFunction/handler.py || { echo "error: InboundWebhookFunction lacks handler.py"; exit 1; }
	@$(BIN)/python tools/deploy.py pin-build
	$(BIN)/python tools/layer_size.py .aws-sam/build/CommonLayer

# ---- deploy to AWS (docs/deploy.md): CONFIG_ENV = a samconfig.toml environment (default = dev) ---
CONFIG_ENV ?= default
.PHONY: deploy delete-failed-stack

deploy: install tools ## build for the deploy's architecture, sam deploy, publish the console (CONFIG_ENV=prod, GUIDED=1, PARAMS="K=V ...")
	@arch=$$($(BIN)/python tools/deploy.py architecture --config-env $(CONFIG_ENV)) && \
	  $(MAKE) --no-print-directory build ARCH=$$arch
	$(BIN)/python tools/deploy.py deploy --config-env $(CONFIG_ENV) $(if $(GUIDED),--guided)

delete-failed-stack: install ## delete the stack if its first deploy failed (ROLLBACK_COMPLETE), and only then
	$(BIN)/python tools/deploy.py delete-failed-stack --config-env $(CONFIG_ENV)

clean: ## remove venvs and build output
	rm -rf $(VENV) $(TOOLS_VENV) .venv-checkov .venv-emulator .local .aws-sam .pytest_cache .mypy_cache .ruff_cache

# ---- the local stack: ministack (local AWS emulator) + the real template (docs/local.md) -------
EMULATOR_VENV := .venv-emulator
PORT ?= 4566
SANDBOX_PORT ?= 4570
.PHONY: emulator run stop reset e2e

$(EMULATOR_VENV)/.installed: local/requirements-emulator.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 not found (see tools/find-python.sh)"; exit 1; }
	@test -x $(EMULATOR_VENV)/bin/python || $(PYTHON) -m venv $(EMULATOR_VENV)
	$(EMULATOR_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r local/requirements-emulator.txt
	@touch $@

emulator: $(EMULATOR_VENV)/.installed ## ministack in its own venv (it pins botocore; Python 3.12 like Lambda)

# PUBLIC_URL: a tunnel's https URL to 127.0.0.1:$(PORT), for a real Twilio number (docs/local.md).
run: install tools emulator ## the whole stack: emulator, deploy, Twilio sandbox + phone simulator (PORT=4566 SANDBOX_PORT=4570 PUBLIC_URL=)
	@$(BIN)/python -m sms_automation_local run --port $(PORT) --sandbox-port $(SANDBOX_PORT)$(if $(PUBLIC_URL), --public-url '$(PUBLIC_URL)')

console-screenshots: install ## docs/images/console-*.png from the running `make run` stack (Debian's chromium; pngquant squeezes them)
	PYTHONPATH=.:layers/common:local $(BIN)/python -m tests.e2e.screenshots

stop: install ## stop a `make run` running in another terminal
	@$(BIN)/python -m sms_automation_local stop

reset: install ## stop, then delete .local (state, logs, build): the next `make run` starts from scratch
	@$(BIN)/python -m sms_automation_local reset

e2e: install tools emulator ## end-to-end tests only: deploy to a fresh emulator, real HTTP
	$(BIN)/pytest -m e2e tests/e2e

# ---- benchmarks: on demand, never part of `make test` (bench/RESULTS.md) ------------------------
.PHONY: bench
bench: install ## cold starts, warm webhook, trigger evaluation, each against a floor → bench/RESULTS.md
	PYTHONPATH=.:layers/common $(BIN)/python -m bench $(BENCH_ARGS)
