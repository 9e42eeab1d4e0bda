# sailpoint.isc: the two commands users need are `make demo` and `make test`; the other targets are their steps.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
BUILD := $(ROOT)/build
# Each stage, and each make of it, gets its own copy of the collection, so that stages (and two makes of one
# stage) run side by side without sharing files. The suffix is this make's process id.
STAGE := $(or $(firstword $(MAKECMDGOALS)),default)
COLLECTIONS := $(BUILD)/trees/$(STAGE).$(shell echo $$PPID)
COLLECTION := $(COLLECTIONS)/ansible_collections/sailpoint/isc
INSTALLED := $(BUILD)/installed
# ansible-test sanity keeps its caches and per-test environments under ~/.ansible; keep them in the build folder.
TEST_HOME := $(BUILD)/home
NEWEST_VENV := $(ROOT)/.venv-newest
NEWEST_PYTHON ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
# beside the copy of this make run, so that two runs never stop each other's emulator
EMULATOR_STATE = $(COLLECTIONS)/emulator
DEMO_STATE := $(BUILD)/demo
DEMO_CHECK_STATE := $(BUILD)/demo-check
DEMO_STUCK := 6
MODULES := task_status_info task_status
ROLES := stuck_tasks task_report wait_for_tasks
# Longest first, so that make test's parallel runner finishes soonest.
STAGES := newest-core integration molecule sanity demo-check lint emulator-tests browser-tests units package changelog-lint
TEST_JOBS ?= 2

export PATH := $(BIN):$(PATH)
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export NO_COLOR := 1
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_LOCALHOST_WARNING := 0
export ANSIBLE_INVENTORY_UNPARSED_WARNING := 0

.PHONY: help demo demo-reset demo-check test venv tree system-deps $(STAGES) bench format clean

help:
	@echo "make demo   run the stuck-task runbook against a seeded local ISC emulator (dry run, then for real)"
	@echo "make test   run the whole suite: $(STAGES)"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "Single stages: make <stage>; remove everything built: make clean"

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

# ansible-test only works inside .../ansible_collections/<namespace>/<name>: copy what git would ship (tracked
# files and new files that are not ignored) into a fresh tree under build/.
tree: venv
	for stale in $(BUILD)/trees/$(STAGE).*; do kill -0 "$${stale##*.}" 2>/dev/null || rm -rf "$$stale"; done
	rm -rf $(COLLECTIONS)
	mkdir -p $(COLLECTION)
	git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $(COLLECTION)
	# The copy sits inside this repository's ignored build folder: give it a repository of its own, or
	# ansible-test would ask this one for the file list and find none.
	cd $(COLLECTION) && git init --quiet && git add --all
	mkdir -p $(TEST_HOME)/.ansible/test/cache $(TEST_HOME)/.config/pip
	# ansible-test's environments install from the package index with this HOME: keep the user's pip settings.
	if [ -f "$$HOME/.config/pip/pip.conf" ]; then cp "$$HOME/.config/pip/pip.conf" $(TEST_HOME)/.config/pip/; fi
	pip_version=$$($(BIN)/python -c 'import re, ansible_test, pathlib; print(re.search(r"pip=.(\d[\d.]*)", (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()).group(1))'); \
	install -m 644 tests/utils/get_pip_stub.py $(TEST_HOME)/.ansible/test/cache/get_pip_$${pip_version//./_}.py.$$$$ && mv $(TEST_HOME)/.ansible/test/cache/get_pip_$${pip_version//./_}.py.$$$$ $(TEST_HOME)/.ansible/test/cache/get_pip_$${pip_version//./_}.py

# Debian's Chromium looks at the HTML report in the browser tests; installed when missing (root only).
system-deps:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: apt-get install chromium"; exit 1; fi; fi

test: venv
	$(BIN)/python tests/utils/run_suite.py --jobs $(TEST_JOBS) $(STAGES)

sanity: tree
	cd $(COLLECTION) && HOME=$(TEST_HOME) ansible-test sanity --local --python 3.11 --color no

units: tree
	cd $(COLLECTION) && ansible-test units --local --python 3.11 --color no --num-workers 2

emulator-tests: venv
	cd tests/emulator && $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider tests

integration: tree
	trap '$(BIN)/python tests/utils/emulator.py stop $(EMULATOR_STATE)' EXIT; \
	$(BIN)/python tests/utils/emulator.py start $(EMULATOR_STATE) --tenants acme,globex,initech --tasks 200 --validate-requests; \
	$(BIN)/python tests/utils/emulator.py integration-config $(EMULATOR_STATE) $(COLLECTION)/tests/integration/integration_config.yml; \
	cd $(COLLECTION) && ansible-test integration --local --python 3.11 --color no

lint: tree
	cd $(COLLECTION) && ruff format --check --diff . && ruff check .
	@echo "CHECK ok: ruff format and import order"
	cd $(COLLECTION) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-lint

# Rewrite the collection's Python in the one house style (ruff.toml); make lint fails on anything it would change.
format: venv
	ruff check --fix --quiet . && ruff format .

changelog-lint: venv
	antsibull-changelog lint

molecule: tree
	# molecule keeps its state under ANSIBLE_HOME in a folder named after the checkout (isc), shared by every
	# checkout on the machine: give this one its own.
	cd $(COLLECTION) && ANSIBLE_HOME=$(TEST_HOME)/.ansible ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) molecule test --all

browser-tests: tree system-deps
	cd $(COLLECTION) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

# The collection as users get it: build the tarball, install it, render every module's documentation, and
# check the execution-environment metadata with ansible-builder.
package: tree
	rm -rf $(BUILD)/dist $(INSTALLED)
	cd $(COLLECTION) && ansible-galaxy collection build --force --output-path $(BUILD)/dist . >/dev/null
	@echo "CHECK ok: built $$(basename $(BUILD)/dist/sailpoint-isc-*.tar.gz)"
	ANSIBLE_COLLECTIONS_PATH=$(INSTALLED) ansible-galaxy collection install --offline --force -p $(INSTALLED) $(BUILD)/dist/sailpoint-isc-*.tar.gz >/dev/null
	@echo "CHECK ok: installed into $(INSTALLED)"
	@for module in $(MODULES); do \
	  ANSIBLE_COLLECTIONS_PATH=$(INSTALLED) ansible-doc sailpoint.isc.$$module | grep "^> MODULE sailpoint.isc.$$module" >/dev/null \
	    || { echo "ansible-doc sailpoint.isc.$$module did not render"; exit 1; }; \
	  echo "CHECK ok: ansible-doc sailpoint.isc.$$module"; done
	@for role in $(ROLES); do \
	  ANSIBLE_COLLECTIONS_PATH=$(INSTALLED) ansible-doc -t role sailpoint.isc.$$role | grep "^> ROLE: \*sailpoint.isc.$$role\*" >/dev/null \
	    || { echo "ansible-doc -t role sailpoint.isc.$$role did not render"; exit 1; }; \
	  echo "CHECK ok: ansible-doc -t role sailpoint.isc.$$role"; done
	@ANSIBLE_COLLECTIONS_PATH=$(INSTALLED) ansible-doc -l sailpoint.isc
	@ansible-builder introspect --sanitize $(INSTALLED) | grep "jsonpatch" >/dev/null && echo "CHECK ok: ansible-builder introspect finds the Python requirements"
	# create resolves dependency files from the definition's folder and introspect from the collection root, so
	# the definition is given to create from the collection root, as introspect reads it.
	rm -rf $(BUILD)/ee && ln -sfn meta/execution-environment.yml $(COLLECTION)/execution-environment.yml
	cd $(COLLECTION) && ansible-builder create -f execution-environment.yml -c $(BUILD)/ee >/dev/null && rm execution-environment.yml
	@grep -q jsonpatch $(BUILD)/ee/_build/requirements.txt && echo "CHECK ok: ansible-builder create accepts meta/execution-environment.yml"

# A second run of sanity and units under the newest ansible-core, where a Python 3.12 exists.
newest-core: tree
	@if [ -z "$(NEWEST_PYTHON)" ]; then echo "CHECK skipped: no Python 3.12 on this machine, so no newer ansible-core"; exit 0; fi; \
	if [ ! -f $(NEWEST_VENV)/.installed ] || [ requirements-newest.txt -nt $(NEWEST_VENV)/.installed ]; then \
	  $(NEWEST_PYTHON) -m venv $(NEWEST_VENV) && $(NEWEST_VENV)/bin/python -m pip install --quiet --upgrade pip && \
	  $(NEWEST_VENV)/bin/python -m pip install --quiet -r requirements-newest.txt && touch $(NEWEST_VENV)/.installed; fi; \
	pip_version=$$($(NEWEST_VENV)/bin/python -c 'import re, ansible_test, pathlib; print(re.search(r"pip=.(\d[\d.]*)", (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()).group(1))'); \
	install -m 644 tests/utils/get_pip_stub.py $(TEST_HOME)/.ansible/test/cache/get_pip_$${pip_version//./_}.py.$$$$ && mv $(TEST_HOME)/.ansible/test/cache/get_pip_$${pip_version//./_}.py.$$$$ $(TEST_HOME)/.ansible/test/cache/get_pip_$${pip_version//./_}.py; \
	$(NEWEST_VENV)/bin/ansible --version | sed -n 1p; \
	cd $(COLLECTION) && PATH=$(NEWEST_VENV)/bin:$$PATH HOME=$(TEST_HOME) ansible-test sanity --local --python 3.12 --color no && \
	PATH=$(NEWEST_VENV)/bin:$$PATH ansible-test units --local --python 3.12 --color no --num-workers 2

# Never part of make test: the full set takes about half an hour and prints figures, not verdicts on the code.
# BENCH_ARGS narrows request_economy.py, e.g. make bench BENCH_ARGS="--quick --scenarios listing".
bench: venv
	$(BIN)/python benchmarks/emulator_throughput.py
	$(BIN)/python benchmarks/task_status_bulk.py
	$(BIN)/python benchmarks/request_economy.py $(BENCH_ARGS)

# The main job: the stuck-task runbook against a seeded emulator whose state (a SQLite file under build/demo)
# survives between runs, so a second `make demo` shows that nothing is left to change.
demo: tree
	rm -rf $(DEMO_STATE)/dist $(DEMO_STATE)/collections
	cd $(COLLECTION) && ansible-galaxy collection build --force --output-path $(DEMO_STATE)/dist . >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(DEMO_STATE)/collections ansible-galaxy collection install --offline --force \
	  -p $(DEMO_STATE)/collections $(DEMO_STATE)/dist/sailpoint-isc-*.tar.gz >/dev/null
	trap '$(BIN)/python tests/utils/emulator.py stop $(DEMO_STATE)' EXIT; \
	$(BIN)/python tests/utils/emulator.py start $(DEMO_STATE) --state $(DEMO_STATE)/tenant.sqlite --tasks 300 --stuck $(DEMO_STUCK) --pending 3; \
	eval "$$($(BIN)/python tests/utils/emulator.py env $(DEMO_STATE))"; \
	export ANSIBLE_COLLECTIONS_PATH=$(DEMO_STATE)/collections; \
	echo; echo "=== 1. Dry run (check mode): what would be cleared"; \
	ansible-playbook -i localhost, sailpoint.isc.clear_stuck_tasks --check --diff -e stuck_tasks_report_dir=$(DEMO_STATE)/reports; \
	echo; echo "=== 2. The real run"; \
	ansible-playbook -i localhost, sailpoint.isc.clear_stuck_tasks -e stuck_tasks_report_dir=$(DEMO_STATE)/reports; \
	echo; echo "=== 3. A rerun changes nothing"; \
	ansible-playbook -i localhost, sailpoint.isc.clear_stuck_tasks -e stuck_tasks_report_dir=$(DEMO_STATE)/reports; \
	echo; echo "=== 4. The tenant's task report"; \
	ansible-playbook -i localhost, sailpoint.isc.task_report -e task_report_dir=$(DEMO_STATE)/reports; \
	echo; echo "Reports are in $(DEMO_STATE)/reports:"; find $(DEMO_STATE)/reports -type f | sort; \
	echo; echo "The tenant's state stays in $(DEMO_STATE)/tenant.sqlite, so another make demo finds nothing left to clear;"; \
	echo "make demo-reset starts the story over."

# make demo from scratch, as a stage of make test: the story must read as the README tells it.
demo-check: venv
	rm -rf $(DEMO_CHECK_STATE)
	$(MAKE) --no-print-directory demo DEMO_STATE=$(DEMO_CHECK_STATE) > $(BUILD)/demo-check.log 2>&1 || { cat $(BUILD)/demo-check.log; exit 1; }
	@cat $(BUILD)/demo-check.log
	@sed -n '/^=== 1/,/^=== 2/p' $(BUILD)/demo-check.log | grep -F "dry run: $(DEMO_STUCK) tasks pending" | grep -F "would close $(DEMO_STUCK)," >/dev/null \
	  && echo "CHECK ok: the dry run lists the $(DEMO_STUCK) stuck tasks"
	@sed -n '/^=== 1/,/^=== 2/p' $(BUILD)/demo-check.log | grep -E "^-[[:space:]]+\"completionStatus\": null" >/dev/null \
	  && echo "CHECK ok: the dry run shows the diff"
	@sed -n '/^=== 2/,/^=== 3/p' $(BUILD)/demo-check.log | grep -F "closed $(DEMO_STUCK)," >/dev/null \
	  && echo "CHECK ok: the real run clears them"
	@sed -n '/^=== 3/,/^=== 4/p' $(BUILD)/demo-check.log | grep -E "localhost +: ok=[0-9]+ +changed=0 " >/dev/null \
	  && echo "CHECK ok: the rerun changes nothing"
	@for report in task-report.html task-report.json task-report.md; do test -s $(DEMO_CHECK_STATE)/reports/localhost/$$report \
	  || { echo "no $$report"; exit 1; }; done && echo "CHECK ok: the report files exist"

demo-reset:
	rm -rf $(DEMO_STATE)

clean:
	rm -rf $(BUILD) $(VENV) $(NEWEST_VENV) tests/output
