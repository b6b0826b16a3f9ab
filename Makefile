# Developer and CI entry points. `make test` is the CI command (.ci/run calls it).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
BUILD := $(ROOT)/.build
COLL_LINK := $(BUILD)/collections/ansible_collections/claude_fleet/bedrock
ANSIBLE_TEST_DIR ?= $(BUILD)/ansible-test
SANITY_ROOT = $(ANSIBLE_TEST_DIR)/ansible_collections/claude_fleet/bedrock
REQUIREMENTS ?= requirements/dev.txt
CONSTRAINTS ?= requirements/constraints.txt
# The default dev toolchain (requirements/constraints.txt) runs on Python 3.13. pyenv shims are not
# always on PATH (and fail for versions not selected), so look in pyenv's versions too.
find_python = $(firstword $(foreach p,$(1) $(wildcard $(HOME)/.pyenv/versions/$(2)*/bin/$(1)) $(wildcard /usr/bin/$(1)),\
  $(shell $(p) -c 'import sys; print(sys.executable)' 2>/dev/null)))
PYTHON ?= $(call find_python,python3.13,3.13)
PYTHON_VERSION = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export PYTHONPATH := $(ROOT)/tests/infra/emulator:$(BUILD)/collections

.PHONY: test-e2e test-pull help venv deps collection-link lint sanity units unit integration reliability molecule build changelog importer syntax test-floor test demo demo-down \
	bench bench-sandbox bench-emulator bench-install emulator sandbox-image test-install test-reliability clean

help:
	@echo "make demo   - Bedrock emulator + 3 sandbox workstations + setup.yml + fleet report (ENDPOINT=mantle: on Amazon Bedrock (Mantle))"
	@echo "make test   - lint, changelog, sanity, units, the oldest-supported toolchain (make test-floor), integration, reliability (CI part), build, galaxy-importer (what CI runs)"
	@echo "make test-e2e - the slow end-to-end suites, outside make test for CI time: the network (proxy, CA, mTLS) and ansible-pull tests, molecule (default and mantle)"

$(VENV)/.stamp: $(REQUIREMENTS) $(CONSTRAINTS)
	@[ -n "$(PYTHON)" ] || { echo "make venv: no Python for $(REQUIREMENTS); set PYTHON=/path/to/python3.x" >&2; exit 1; }
	@# A virtualenv of another Python (the toolchain moved from 3.11) is rebuilt, not reused.
	@if [ -x $(PY) ] && [ "$$($(PY) -c 'import sys; print(sys.version)')" != "$$($(PYTHON) -c 'import sys; print(sys.version)')" ]; then \
	  echo "rm -rf $(VENV) (other Python)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r $(REQUIREMENTS) -c $(CONSTRAINTS)
	touch $@

venv: $(VENV)/.stamp

# Host packages the sandbox fleet and the tests need (idempotent; apt runs only when one is missing).
# zsh and fish: the units source the rendered shell files with the real shells (no sandbox image exists yet then).
deps:
	@missing=""; for p in debootstrap openssh-client rsync xz-utils util-linux iproute2 tinyproxy zsh fish; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt-get install:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

# Make this checkout resolve as claude_fleet.bedrock for ansible-playbook, ansible-doc and molecule.
collection-link:
	@mkdir -p $(dir $(COLL_LINK))
	@[ -L $(COLL_LINK) ] || ln -sfn ../../../.. $(COLL_LINK)

# HOME in the build dir: ansible-lint puts ~/.ansible/collections before the checkout, and a claude_fleet.bedrock
# installed there (an older release) would stand in for this one in the syntax check of the playbooks' hosts.
lint: venv collection-link
	@mkdir -p $(BUILD)/lint-home
	HOME=$(BUILD)/lint-home $(BIN)/ansible-lint --profile production

# ansible-test wants a real ansible_collections/<ns>/<name> tree: copy the tracked files there.
sanity: venv
	@rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	@git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $(SANITY_ROOT)/
	@cd $(SANITY_ROOT) && git init -q && git add -A >/dev/null
	@# amazon.aws and community.general must sit beside the collection for the import and pylint tests.
	@for ns in amazon community; do ln -sfn $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/$$ns $(ANSIBLE_TEST_DIR)/ansible_collections/$$ns; done
	$(PY) tests/sanity/bootstrap_pip.py
	cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --python $(PYTHON_VERSION) --requirements --color no

# Every playbook parses, and ansible-doc renders every plugin and role (also make test-floor's first steps).
syntax: venv collection-link
	@for p in playbooks/*.yml; do $(BIN)/ansible-playbook --syntax-check $$p >/dev/null || exit 1; done; echo "syntax-check: playbooks/*.yml"
	@for t in module lookup filter role; do $(BIN)/ansible-doc -t $$t -l claude_fleet.bedrock --json >/dev/null || exit 1; done
	@for t in module lookup filter role; do \
	  names=$$($(BIN)/ansible-doc -t $$t -l claude_fleet.bedrock --json | $(PY) -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); \
	  [ -z "$$names" ] || $(BIN)/ansible-doc -t $$t $$names >/dev/null || exit 1; echo "ansible-doc -t $$t: $$names"; done

# The oldest-supported toolchain (tests/support-matrix.yml, docs/support.md) in its own virtualenv.
FLOOR_PYTHON ?= $(call find_python,python3.11,3.11)
test-floor: deps
	@$(MAKE) --no-print-directory VENV=$(ROOT)/.venv-floor PYTHON=$(FLOOR_PYTHON) REQUIREMENTS=requirements/floor.txt \
	  CONSTRAINTS=requirements/floor-constraints.txt ANSIBLE_TEST_DIR=$(BUILD)/ansible-test-floor UNIT_ARGS="tests/unit tests/infra/sandbox -m 'not sandbox'" syntax sanity units
	@echo "make test-floor: syntax-check, ansible-doc, sanity and units (the sandbox ones run once, on the default toolchain) passed on $$($(ROOT)/.venv-floor/bin/ansible --version | sed -n 1p)"

UNIT_ARGS ?= tests/unit tests/infra
# Every suite prints its slowest tests, so that each CI log shows where make test's time goes.
DURATIONS := --durations=25
units unit: venv collection-link deps
	$(BIN)/pytest -q -rs $(DURATIONS) $(UNIT_ARGS)

# The sandbox suites mostly wait (SSH, playbooks on sandbox workstations, bounded timeouts, injected
# faults), so they run in WORKERS pytest-xdist workers (2 to 4, by core count; WORKERS=1: serially).
# --dist loadfile keeps each test file in one worker, so a module's fleet and test beds are made once;
# each worker has its own session test bed, fleet names carry the worker's pid and sandbox_fleet.py
# allocates loopback addresses under a lock.
WORKERS ?= $(shell n=$$(nproc); echo $$(( n < 2 ? 2 : n > 4 ? 4 : n )))
XDIST = $(if $(filter 1,$(WORKERS)),,-n $(WORKERS) --dist loadfile)

# Against the emulator and sandbox workstations (needs root and the npm registry), ansible-pull end to
# end included. The network end-to-end file runs in make test-e2e instead (CI's time).
E2E_FILES := tests/integration/test_network_e2e.py
integration: venv collection-link deps
	$(BIN)/pytest -q -rs $(DURATIONS) $(XDIST) tests/integration $(addprefix --ignore=,$(E2E_FILES))

# ansible-pull end to end on one sandbox workstation alone (docs/ansible-pull.md; part of make integration).
test-pull: venv collection-link deps
	$(BIN)/pytest -q -rs $(DURATIONS) tests/integration/test_pull_mode.py

# The slow end-to-end suites, outside make test (CI's time): network (proxy, CA, mTLS) and molecule's
# default and mantle scenarios. Run them before a release and after changing what they cover.
test-e2e: venv collection-link deps
	$(BIN)/pytest -q -rs $(DURATIONS) $(E2E_FILES)
	@$(MAKE) --no-print-directory molecule
	$(BIN)/molecule test -s mantle

# The reliability suite's CI part: bad input, Bedrock faults, user data, secrets (one workstation
# each). The tests marked `reliability` (hypothesis generation, three-workstation host faults) run in
# make test-reliability only (docs/reliability.md).
reliability: venv collection-link deps
	$(BIN)/pytest -q -rs $(DURATIONS) $(XDIST) tests/reliability -m "not reliability"

molecule: venv collection-link deps
	$(BIN)/molecule test

build: venv
	@mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist

IMPORTER_VENV := $(ROOT)/.venv-importer
# galaxy-importer runs on the Python 3.11 the oldest-supported toolchain uses.
IMPORTER_PYTHON ?= $(call find_python,python3.11,3.11)
$(IMPORTER_VENV)/.stamp: requirements/importer.txt
	$(IMPORTER_PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/pip install -q --disable-pip-version-check -r requirements/importer.txt
	touch $@

# Galaxy's own import checks on the built tarball (offline configuration).
importer: build $(IMPORTER_VENV)/.stamp
	@# HOME in the build dir: what the importer installs must not land in ~/.ansible/collections, where molecule
	@# would later find a stale copy of this collection before the checkout.
	@mkdir -p $(BUILD)/importer-home
	@out=$$(HOME=$(BUILD)/importer-home PATH=$(IMPORTER_VENV)/bin:$$PATH GALAXY_IMPORTER_CONFIG=$(ROOT)/tests/importer/galaxy-importer.cfg \
	  $(IMPORTER_VENV)/bin/python -m galaxy_importer.main $(BUILD)/dist/claude_fleet-bedrock-$$(awk '/^version:/ {print $$2}' galaxy.yml).tar.gz 2>&1); \
	  echo "$$out" | tail -n 15; ! echo "$$out" | grep -qE '^(ERROR|WARNING)'

changelog: venv
	$(BIN)/antsibull-changelog lint

test: venv deps collection-link
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory changelog
	@$(MAKE) --no-print-directory sanity
	@$(MAKE) --no-print-directory units
	@$(MAKE) --no-print-directory test-floor
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory reliability
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory importer
	@echo "make test: lint, changelog, sanity, units, oldest-supported toolchain, integration, reliability, build and galaxy-importer passed (the slow end-to-end suites: make test-e2e)"

DEMO := $(BUILD)/demo
# make demo ENDPOINT=mantle: the same fleet on Amazon Bedrock (Mantle) (tests/mantle.yml over tests/group_vars).
demo: venv deps collection-link
	@mkdir -p $(DEMO)/inventory
	$(PY) tests/infra/services/testbed.py up --state $(DEMO)/state
	tests/infra/sandbox/fleet up --name demo --release bookworm --count 3 --inventory $(DEMO)/inventory/hosts.yml
	@ln -sfn $(ROOT)/tests/group_vars $(DEMO)/inventory/group_vars
	CLAUDE_FLEET_TEST_STATE=$(DEMO)/state $(BIN)/ansible-playbook -i $(DEMO)/inventory playbooks/setup.yml \
	  -e claude_fleet_report_dir=$(DEMO)/fleet-report $(if $(filter mantle,$(ENDPOINT)),-e @tests/mantle.yml)
	@echo; cat $(DEMO)/fleet-report/fleet-report.md
	@echo; echo "Report: $(DEMO)/fleet-report/fleet-report.{json,md}; emulator log: $(DEMO)/state/emulator.log"
	@echo "Re-run: CLAUDE_FLEET_TEST_STATE=$(DEMO)/state ansible-playbook -i $(DEMO)/inventory playbooks/setup.yml; tear down: make demo-down"

demo-down:
	-tests/infra/sandbox/fleet down --name demo
	-$(PY) tests/infra/services/testbed.py down --state $(DEMO)/state

# The nodejs/claude_code acceptance suite alone (part of make integration).
test-install: venv deps collection-link
	$(BIN)/pytest -v -m "sandbox and network" tests/integration/test_install_roles.py

# The whole reliability and security suite, heavy fault and load tests included (docs/reliability.md).
test-reliability: venv deps collection-link
	$(BIN)/pytest -v -rs tests/reliability

bench-install: venv deps collection-link
	$(PY) bench/install_bench.py

# Run the Bedrock emulator in the foreground: make emulator [SCENARIO=default] [PORT=0]
emulator: venv
	$(PY) -m bedrock_emulator --scenario $(or $(SCENARIO),default) --port $(or $(PORT),0) --log $(BUILD)/emulator.jsonl

sandbox-image: deps
	tests/infra/sandbox/fleet image --release bookworm,trixie

bench-sandbox: venv deps
	$(PY) bench/sandbox_bench.py

bench-emulator: venv
	$(PY) bench/emulator_bench.py --json-out bench/results/emulator.json

# Every benchmark; each prints its figures and writes bench/results/<name>.json.
bench: venv collection-link deps
	@for b in bench/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(BUILD) .pytest_cache
