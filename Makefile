# anon-consistent: Orthanc + the Python plugin, installed and tested from this directory.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Orthanc's Python plugin embeds Debian's interpreter: the venv must be built from it.
SYSTEM_PYTHON := /usr/bin/python3.11
# PostgreSQL and Orthanc's PostgreSQL plugins: the shared mapping and `make run-cluster`.
APT_PACKAGES := orthanc orthanc-python python3.11-venv dicom3tools dcmtk chromium chromium-driver \
	postgresql orthanc-postgresql

.PHONY: deps apt-deps run run-cluster test lint unit integration browser bench clean

deps: apt-deps $(VENV)/.installed

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: deps
	mkdir -p var
	Orthanc orthanc.json

# PostgreSQL on 127.0.0.1:5433 and two Orthanc nodes on 8042 and 8043 (see README, "Several Orthanc nodes").
run-cluster: deps
	$(PY) scripts/run_cluster.py

lint: deps
	$(VENV)/bin/ruff check plugin tests bench scripts
	$(VENV)/bin/ruff format --check plugin tests bench scripts
	$(VENV)/bin/mypy

unit: deps
	$(PY) -m pytest tests/unit

integration: deps
	$(PY) -m pytest tests/integration

browser: deps
	$(PY) -m pytest tests/browser

test: deps lint
	$(PY) -m pytest tests

bench: deps
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) bench/run_bench.py

clean:
	rm -rf var test-artifacts .pytest_cache .mypy_cache .ruff_cache
