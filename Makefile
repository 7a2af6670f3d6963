# postmask — every target bootstraps the virtualenv it needs; nothing has to be installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
PYENV313 := /root/.pyenv/versions/3.13.0/bin/python3.13
# Lambda runs python3.13: build the venv with it when this machine has one (a pyenv shim on PATH may
# exist without working, so each candidate must actually run).
BOOTSTRAP_PY := $(firstword $(foreach candidate,python3.13 $(PYENV313),$(shell $(candidate) -c "" >/dev/null 2>&1 && echo $(candidate))))
# No region is forced on you: `make deploy` and `make admin` use your AWS_REGION / profile, or samconfig.toml's.
# Only the offline checks, which never call AWS, get one when none is set (OFFLINE_REGION).
OFFLINE_REGION := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-1}
export SAM_CLI_TELEMETRY := 0
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv run sam-local sam-invoke test test-fast lint typecheck template-check build deploy admin prune-versions openapi key-families chromium gnupg bench clean

help:
	@echo "make run        start postmask locally (API, web, SMTP) on embedded moto"
	@echo "make sam-local  sam local start-api + start-lambda (Docker) on one provisioned moto server"
	@echo "make sam-invoke FUNCTION=ForwarderFunction EVENT=events/ses-receipt.json   beside make sam-local"
	@echo "make test       the whole test suite (bootstraps .venv)"
	@echo "make lint       ruff + mypy"
	@echo "make key-families  rewrite decision 0074's key-family table from template.yaml's statements"
	@echo "make openapi    regenerate functions/docs/openapi.json from the handlers (commit the result)"
	@echo "make build      sam build"
	@echo "make deploy     sam deploy (GUIDED=1 the first time)"
	@echo "make admin EMAIL=you@example.org   create the first admin of a deployed stack"
	@echo "make prune-versions   delete the functions' old versions no alias uses (DRY_RUN=1 to list them)"
	@echo "make bench      benchmarks: cold start vs floor, warm, DynamoDB calls, list scaling, sizes"

$(STAMP): requirements-dev.txt layers/common/requirements.txt layers/web/requirements.txt
	@if [ ! -x $(PY) ]; then \
	  if [ -n "$(BOOTSTRAP_PY)" ]; then $(BOOTSTRAP_PY) -m venv $(VENV); \
	  else echo "python3.13 not found (Lambda's runtime); falling back to $$(python3 --version)." >&2; python3 -m venv $(VENV); fi; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m local

# Needs Docker. `sam local start-api` on 127.0.0.1:3000 and `sam local start-lambda` on 127.0.0.1:3001 (the sign-in
# mailer is invoked there), warm containers, every AWS call to one moto server this starts and provisions; env.json
# says where it is (decision 0011). SAM_ARGS="..." adds options to both sam commands.
sam-local: build
	$(PY) -m local.sam_local $(if $(SAM_ARGS),-- $(SAM_ARGS),)

# Beside a running `make sam-local`: one function with a sample event, e.g.
# make sam-invoke FUNCTION=ForwarderFunction EVENT=events/ses-receipt.json
sam-invoke: $(STAMP)
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make sam-invoke FUNCTION=<LogicalId> EVENT=events/<file>.json" >&2; exit 2; }
	$(PY) -m local.sam_local --invoke "$(FUNCTION)" "$(EVENT)" $(if $(SAM_ARGS),-- $(SAM_ARGS),)

test: $(STAMP) chromium gnupg
	$(OFFLINE_REGION) $(PY) -m pytest

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).

test-fast: $(STAMP)
	$(OFFLINE_REGION) $(PY) -m pytest -m "not e2e and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

template-check: $(STAMP)
	$(OFFLINE_REGION) $(VENV)/bin/sam validate --lint
	$(OFFLINE_REGION) $(VENV)/bin/cfn-lint template.yaml

build: $(STAMP)
	$(VENV)/bin/sam build

# First time: `make deploy GUIDED=1` (asks for stack name, region, parameters and saves them to samconfig.toml).
# STACK=<name> deploys another stack than samconfig.toml's; its name must leave room for the SES rule names.
deploy: build
	$(PY) -m scripts.stack_name $(if $(STACK),--stack "$(STACK)",)
	$(VENV)/bin/sam deploy $(if $(GUIDED),--guided,) $(if $(STACK),--stack-name "$(STACK)",)

# The one OpenAPI document, built from every function's resolver; a test fails when the committed one drifts.
openapi: $(STAMP)
	$(PY) -m scripts.openapi

key-families: $(STAMP)
	AWS_DEFAULT_REGION=eu-west-1 $(PY) -m tests.support.key_families

# Debian's Chromium for the browser tests (Playwright cannot download its own browsers here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y chromium || { $$sudo apt-get update && $$sudo apt-get install -y chromium; }; \
	fi

# GnuPG, the second OpenPGP implementation the encryption tests decrypt with (tests/support/gnupg.py).
gnupg:
	@if ! command -v gpg >/dev/null; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y gnupg || { $$sudo apt-get update && $$sudo apt-get install -y gnupg; }; \
	fi

admin: $(STAMP)
	@test -n "$(EMAIL)" || { echo "usage: make admin EMAIL=you@example.org [STACK=name] [REGION=region]" >&2; exit 2; }
	PYTHONPATH=layers/common $(PY) -m scripts.admin --email "$(EMAIL)" $(if $(STACK),--stack "$(STACK)",) $(if $(REGION),--region "$(REGION)",)

# After a deploy: old versions cost SnapStart cache (README "SnapStart and its cost"); KEEP newest unaliased kept.
prune-versions: $(STAMP)
	PYTHONPATH=layers/common $(PY) -m scripts.prune_versions $(if $(STACK),--stack "$(STACK)",) $(if $(REGION),--region "$(REGION)",) --keep "$(or $(KEEP),1)" $(if $(DRY_RUN),--dry-run,)

# Prints a table and writes bench/results.json; `$(PY) -m bench --help` for a shorter run.
bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
