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
OLDEST_VENV := $(ROOT)/.venv-oldest
IMPORTER_VENV := $(ROOT)/.venv-importer
NEWEST_PYTHON ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
# beside the copy of this make run, so that two runs never stop each other's emulator
EMULATOR_STATE = $(COLLECTIONS)/emulator
DEMO_STATE := $(BUILD)/demo
DEMO_CHECK_STATE := $(BUILD)/demo-check
DEMO_STUCK := 6
# awx.awx, for linting extensions/awx/register_credential_type.yml offline and for running it against make runner's
# stand-in controller.
AWX_COLLECTION := $(BUILD)/awx-collection
AWX_BUNDLE := ansible==12.3.0
AWX_BUNDLE_SHA256 := cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414
MODULES := task_status_info task_status source_aggregation source_info api_usage_info
ROLES := stuck_tasks task_report wait_for_tasks recover_aggregations
# Longest first, so that make test's parallel runner finishes soonest.
STAGES := newest-core integration molecule eda sanity hostile monitoring demo-check oldest-core runner navigator galaxy-importer lint proxy emulator-tests browser-tests units package docs changelog-lint
TEST_JOBS ?= 2
# where a pytest stage writes its JUnit XML report, which make test's summary counts from
JUNIT ?= $(BUILD)/junit/$(STAGE).xml

export PATH := $(BIN):$(PATH)
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export NO_COLOR := 1
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_LOCALHOST_WARNING := 0
export ANSIBLE_INVENTORY_UNPARSED_WARNING := 0

.PHONY: help demo demo-reset demo-check test venv tree system-deps java-runtime promtool $(STAGES) bench format clean

help:
	@echo "make demo   run the stuck-task and aggregation-recovery runbooks against a seeded local ISC emulator (dry run, then for real)"
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
	$(BIN)/python tests/utils/seed_get_pip.py $(TEST_HOME)/.ansible/test/cache

# Debian's Chromium looks at the HTML report in the browser tests; installed when missing (root only).
system-deps:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: apt-get install chromium"; exit 1; fi; fi

# ansible-rulebook runs its rules engine on Java 17: Debian's headless runtime is installed when java is missing (root only).
java-runtime:
	@if ! command -v java >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "java is missing: apt-get install openjdk-17-jre-headless"; exit 1; fi; fi

# Prometheus' promtool checks the task_report role's metrics and the alert rules: Debian's prometheus package provides it,
# installed when missing (root only).
promtool:
	@if ! command -v promtool >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else echo "promtool is missing: apt-get install prometheus"; exit 1; fi; fi

test: venv
	$(BIN)/python tests/utils/run_suite.py --jobs $(TEST_JOBS) $(STAGES)

sanity: tree
	cd $(COLLECTION) && HOME=$(TEST_HOME) ansible-test sanity --local --python 3.11 --color no

units: tree
	cd $(COLLECTION) && ansible-test units --local --python 3.11 --color no --num-workers 2

emulator-tests: venv
	cd tests/emulator && $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider --junitxml=$(JUNIT) tests

# Hostile users and servers: every module option and role variable under generated and named hostile values, a
# server answering malformed or echoing secrets, a TLS matrix; ends with the reliability table (tests/hostile).
hostile: tree
	cd $(COLLECTION) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PYTHONPATH=$(COLLECTIONS) \
	  $(BIN)/python -m pytest -q -p no:cacheprovider -rfE --junitxml=$(JUNIT) tests/hostile $(HOSTILE_ARGS)

# The task_report role's metrics files under promtool check metrics (a demo tenant and one with hostile names), the
# alert rules under promtool check rules and test rules, the dashboard's and alerts' metrics (tests/monitoring).
monitoring: tree promtool
	cd $(COLLECTION) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PYTHONPATH=$(COLLECTIONS) \
	  $(BIN)/python -m pytest -q -p no:cacheprovider -rfE --junitxml=$(JUNIT) tests/monitoring

integration: tree
	trap '$(BIN)/python tests/utils/emulator.py stop $(EMULATOR_STATE)' EXIT; \
	$(BIN)/python tests/utils/emulator.py start $(EMULATOR_STATE) --tenants acme,globex,initech --tasks 200 --validate-requests; \
	$(BIN)/python tests/utils/emulator.py integration-config $(EMULATOR_STATE) $(COLLECTION)/tests/integration/integration_config.yml; \
	cd $(COLLECTION) && ansible-test integration --local --python 3.11 --color no

lint: tree $(AWX_COLLECTION)/.extracted
	cd $(COLLECTION) && ruff format --check --diff . && ruff check .
	@echo "CHECK ok: ruff format and import order"
	cd $(COLLECTION) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS):$(AWX_COLLECTION) ansible-lint
	cd $(COLLECTION) && nox --no-color --envdir $(COLLECTIONS)/nox -s extra-checks
	@echo "CHECK ok: antsibull-nox extra-checks: no-unwanted-files, action-groups, no-trailing-whitespace"

# awx.awx, extracted from the `ansible` bundle on PyPI (Galaxy is out of reach), pinned by hash.
$(AWX_COLLECTION)/.extracted: | venv
	# Extracted aside and moved into place whole, as lint and runner may ask for it at the same time.
	staging=$(AWX_COLLECTION).$$$$; rm -rf $$staging && mkdir -p $$staging/wheel; \
	$(BIN)/python -m pip download --quiet --no-deps --dest $$staging/wheel "$(AWX_BUNDLE)"; \
	echo "$(AWX_BUNDLE_SHA256)  $$(ls $$staging/wheel/*.whl)" | sha256sum --check --quiet; \
	$(BIN)/python -c 'import sys, zipfile; bundle = zipfile.ZipFile(sys.argv[1]); \
	  [bundle.extract(name, sys.argv[2]) for name in bundle.namelist() if name.startswith("ansible_collections/awx/awx/")]' \
	  $$staging/wheel/*.whl $$staging; \
	rm -rf $$staging/wheel && touch $$staging/.extracted; \
	[ -f $@ ] || rm -rf $(AWX_COLLECTION); mv -T $$staging $(AWX_COLLECTION) 2>/dev/null || rm -rf $$staging

# The collection as a job gets it: built into a tarball and installed, in this make run's own folder.
define install_collection
	cd $(COLLECTION) && ansible-galaxy collection build --force --output-path $(COLLECTIONS)/dist . >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS)/installed ansible-galaxy collection install --offline --force \
	  -p $(COLLECTIONS)/installed $(COLLECTIONS)/dist/sailpoint-isc-*.tar.gz >/dev/null
endef

# The runbooks as AWX runs them: ansible-runner jobs from extensions/awx/project with the environment of the
# collection's credential type, registered first with awx.awx in a stand-in controller (tests/platform/runbooks.py).
runner: tree $(AWX_COLLECTION)/.extracted
	$(install_collection)
	cd $(COLLECTION) && $(BIN)/python -m pytest -q -p no:cacheprovider tests/platform
	cd $(COLLECTION) && $(BIN)/python tests/platform/runbooks.py runner --collections $(COLLECTIONS)/installed \
	  --awx-collections $(AWX_COLLECTION) --work $(COLLECTIONS)/runner

# The runbooks through `ansible-navigator run --ee false`, the connection passed with --penv and --senv.
navigator: tree
	$(install_collection)
	cd $(COLLECTION) && $(BIN)/python tests/platform/runbooks.py navigator --collections $(COLLECTIONS)/installed --work $(COLLECTIONS)/navigator

# task_status_info through a local HTTPS forward proxy (HTTPS_PROXY), and past it (NO_PROXY).
proxy: tree
	$(install_collection)
	cd $(COLLECTION) && $(BIN)/python tests/platform/proxy.py --collections $(COLLECTIONS)/installed --work $(COLLECTIONS)/proxy

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
	cd $(COLLECTION) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider --junitxml=$(JUNIT) tests/browser

# Event-Driven Ansible: the task_status event source's tests against the emulator, the EDA page and ansible-lint on
# extensions/eda, then the real ansible-rulebook running the rulebooks against the emulator; it prints the detection
# latency, the API calls per poll and the monthly cost of polling.
eda: tree java-runtime
	cd $(COLLECTIONS) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider ansible_collections/sailpoint/isc/tests/eda
	cd $(COLLECTION) && rstcheck --report-level warning docs/docsite/rst/eda.rst
	@echo "CHECK ok: docs/docsite/rst/eda.rst is valid reStructuredText"
	cd $(COLLECTION) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-lint extensions/eda
	@echo "CHECK ok: ansible-lint (production profile) passes the event source and the rulebooks"
	# ansible-lint must read the rulebooks as rulebooks: one without sources fails ansible-rulebook's schema
	cd $(COLLECTION) && sed 's/^  sources:/  event_sources:/' extensions/eda/rulebooks/clear_stuck_tasks.yml > extensions/eda/rulebooks/broken.yml && \
	  { ! ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-lint -f pep8 extensions/eda/rulebooks/broken.yml > $(COLLECTIONS)/broken-rulebook.lint 2>&1; } && \
	  grep -q "schema\[rulebook\]" $(COLLECTIONS)/broken-rulebook.lint && rm extensions/eda/rulebooks/broken.yml
	@echo "CHECK ok: ansible-lint checks the rulebooks against ansible-rulebook's schema"
	cd $(COLLECTION) && $(BIN)/python tests/eda/rulebook_end_to_end.py --collections $(COLLECTIONS) --work $(COLLECTIONS)/eda

# The collection as users get it: the tarball built, installed and its docs rendered, then the execution environment's
# build context (tests/utils/package.sh).
package: tree
	BUILD=$(BUILD) INSTALLED=$(INSTALLED) COLLECTIONS=$(COLLECTIONS) COLLECTION=$(COLLECTION) MODULES="$(MODULES)" ROLES="$(ROLES)" \
	  tests/utils/package.sh

# Galaxy's own importer on the built tarball, as Galaxy runs it on upload, from a venv of its own; a single warning or
# error it reports fails the stage (tests/utils/galaxy_importer.sh).
galaxy-importer: tree
	PYTHON=$(PYTHON) IMPORTER_VENV=$(IMPORTER_VENV) COLLECTIONS=$(COLLECTIONS) COLLECTION=$(COLLECTION) tests/utils/galaxy_importer.sh

# The documentation site in build/docs/html: antsibull-docs lint and render, Sphinx with warnings as errors
# (tests/utils/docs.sh).
docs: tree
	BIN=$(BIN) BUILD=$(BUILD) COLLECTIONS=$(COLLECTIONS) COLLECTION=$(COLLECTION) tests/utils/docs.sh

# A second run of sanity and units under the newest ansible-core, where a Python 3.12 exists.
newest-core: tree
	@if [ -z "$(NEWEST_PYTHON)" ]; then echo "CHECK skipped: no Python 3.12 on this machine, so no newer ansible-core"; exit 0; fi; \
	if [ ! -f $(NEWEST_VENV)/.installed ] || [ requirements-newest.txt -nt $(NEWEST_VENV)/.installed ]; then \
	  $(NEWEST_PYTHON) -m venv $(NEWEST_VENV) && $(NEWEST_VENV)/bin/python -m pip install --quiet --upgrade pip && \
	  $(NEWEST_VENV)/bin/python -m pip install --quiet -r requirements-newest.txt && touch $(NEWEST_VENV)/.installed; fi; \
	$(NEWEST_VENV)/bin/python tests/utils/seed_get_pip.py $(TEST_HOME)/.ansible/test/cache; \
	$(NEWEST_VENV)/bin/ansible --version | sed -n 1p; \
	cd $(COLLECTION) && PATH=$(NEWEST_VENV)/bin:$$PATH HOME=$(TEST_HOME) ansible-test sanity --local --python 3.12 --color no && \
	PATH=$(NEWEST_VENV)/bin:$$PATH ansible-test units --local --python 3.12 --color no --num-workers 2

# The oldest ansible-core that meta/runtime.yml admits, in its own venv: the unit tests, and the three runbooks against
# the emulator. ansible-test units --local creates no venv of its own, so it needs no get-pip stand-in.
oldest-core: tree
	if [ ! -f $(OLDEST_VENV)/.installed ] || [ requirements-oldest.txt -nt $(OLDEST_VENV)/.installed ]; then \
	  rm -rf $(OLDEST_VENV) && $(PYTHON) -m venv $(OLDEST_VENV) && $(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip && \
	  $(OLDEST_VENV)/bin/python -m pip install --quiet -r requirements-oldest.txt && touch $(OLDEST_VENV)/.installed; fi
	@required=$$(sed -n 's/^requires_ansible: *">=\(.*\)"$$/\1/p' meta/runtime.yml); \
	installed=$$($(OLDEST_VENV)/bin/python -c 'from ansible.release import __version__; print(__version__)'); \
	[ "$${installed%.*}" = "$${required%.*}" ] || { echo "requires_ansible is >=$$required, requirements-oldest.txt has $$installed"; exit 1; }; \
	echo "CHECK ok: ansible-core $$installed, of the oldest series that requires_ansible >=$$required admits"
	cd $(COLLECTION) && PATH=$(OLDEST_VENV)/bin:$$PATH ansible-test units --local --python 3.11 --color no --num-workers 2
	$(BIN)/python tests/utils/runbooks_on_core.py $(OLDEST_VENV) $(COLLECTIONS) $(COLLECTIONS)/oldest-core

# Never part of make test: the full set takes about half an hour and prints figures, not verdicts on the code.
# BENCH_ARGS narrows request_economy.py, e.g. make bench BENCH_ARGS="--quick --scenarios listing".
bench: venv
	$(BIN)/python benchmarks/emulator_throughput.py
	$(BIN)/python benchmarks/emulator_aggregations.py
	$(BIN)/python benchmarks/task_status_bulk.py
	$(BIN)/python benchmarks/recover_requests.py --sources 12 --tasks-per-source 2 --pending 300
	$(BIN)/python benchmarks/request_economy.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/task_report_metrics.py

# The main job: the stuck-task runbook against a seeded emulator whose state (a SQLite file under build/demo)
# survives between runs, so a second `make demo` shows that nothing is left to change. Its chapters are the files of
# tests/utils/demo/ (tests/utils/demo.sh says how to add one).
demo: tree
	BIN=$(BIN) COLLECTION=$(COLLECTION) DEMO_STATE=$(DEMO_STATE) DEMO_STUCK=$(DEMO_STUCK) tests/utils/demo.sh run

# make demo from scratch, as a stage of make test: the story must read as the README tells it; each chapter checks
# its part of the output.
demo-check: venv promtool
	BIN=$(BIN) MAKE="$(MAKE)" DEMO_CHECK_STATE=$(DEMO_CHECK_STATE) DEMO_STUCK=$(DEMO_STUCK) tests/utils/demo.sh check

demo-reset:
	rm -rf $(DEMO_STATE)

clean:
	rm -rf $(BUILD) $(VENV) $(NEWEST_VENV) $(OLDEST_VENV) $(IMPORTER_VENV) tests/output
