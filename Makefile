# PFMON infrastructure: every developer command goes through this file.
# The virtual environment lives in .venv; Pulumi.yaml points the Pulumi CLI at the same one.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STACK ?=
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv test lint lint-workflows typecheck plan readme-table openapi local demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install the pinned requirements (runs once)

test: $(STAMP) ## Run lint, workflow lint, type check and every test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-workflows
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP) ## Run ruff lint and the format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-workflows: $(STAMP) ## Run actionlint (with shellcheck) and zizmor offline on .github/workflows
	$(BIN)/actionlint -shellcheck=$(BIN)/shellcheck .github/workflows/*.yml
	$(BIN)/zizmor --offline --persona=pedantic --no-progress .github/workflows

typecheck: $(STAMP) ## Run mypy on components, functions and tools
	$(BIN)/mypy

plan: $(STAMP) ## Print what STACK=<dev|test|prod> would create, offline; no STACK: the tier table
	$(BIN)/python -m tools.plan $(STACK)

readme-table: $(STAMP) ## Rewrite the tier table in README.md from the program
	$(BIN)/python -m tools.plan --update-readme

openapi: $(STAMP) ## Rewrite docs/openapi.json from the route table and the request models
	$(BIN)/python -m tools.openapi --write

local: $(STAMP) ## Run the back end on 127.0.0.1 (API 5200, emulator 5100); ARGS=--reset starts empty
	$(BIN)/python -m tools.local $(ARGS)

demo: $(STAMP) ## Sign up, sign in and record trades against a running make local
	$(BIN)/python -m tools.local.demo

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
