# opsuite: `make up` runs the suite, `make test` runs every test.
# Both create .venv and install the pinned dependencies (constraints.txt) the
# first time, and again only when pyproject.toml or constraints.txt change.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: up test install protos lint format bench status lock mutate

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "opsuite needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing opsuite and its pinned dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[all,dev]"
	@touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/opsuite up $(ARGS)

# Two pytest-xdist workers, each test file a unit of work taken in collection order (the chaos suite,
# the longest, first); each worker that reaches a test of the shared finished suite starts its own.
# `make test WORKERS=0` runs in one process (for -s or --pdb).
# With PYTHONDONTWRITEBYTECODE set (some images set it) nothing is compiled once: each worker would
# rewrite and compile every test module again (26 s of CPU to collect instead of 9) and each of the
# hundreds of service and `opsuite` processes the tests start would compile the project's modules.
WORKERS ?= 2
test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --no-loadscope-reorder $(ARGS)

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# Mutation testing of the pure domain: `make mutate` runs every target (tens of minutes),
# `make mutate TARGET=lots` one of them; survivors land in build/mutation/<target>/survivors.txt.
TARGET ?=
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py $(TARGET)

status: $(STAMP)
	$(BIN)/opsuite status

# Re-pin constraints.txt to what the virtualenv holds now (after a pyproject.toml change). torch is
# pinned without its +cpu label, which only PyTorch's own index serves: pip then takes a local CPU
# wheel where one is offered (find-links) and PyPI's build elsewhere.
lock: $(STAMP)
	@{ echo "# Exact versions of every dependency, so a fresh clone installs the same thing."; \
	   echo "# Regenerate after changing pyproject.toml: make lock"; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v -i '^opsuite' | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.txt
