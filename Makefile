# wso2si.keystores — developer and CI entry points.
#
#   make demo     run demo/run.sh (the demo) with the collection built; it gets
#                 REPO_ROOT, COLLECTION_DIR, TLS_CHECK, ANSIBLE_COLLECTIONS_PATH
#                 and .venv/bin first on PATH; its Java stand-ins keep running
#   make demo-stop  stop the demo fleet's stand-ins (make clean does it first)
#   make test     units + sanity + integration + lint
#   make lint     ansible-lint (production profile), ansible-doc of every module
#                 and the role, changelog lint and freshness (tools in .build/tools)
#   make package-check   build the tarball, check it holds no junk, install it
#                 into a fresh path and run the demo from the installed copy
#   make ssh-fleet  the rollout over SSH to 3 loopback hosts (root only)
#
# Everything runs from .venv (Python 3.11, requirements-dev.txt) against a copy
# of this tree at .build/ansible_collections/wso2si/keystores, the layout
# ansible-test and ansible-playbook need.  No Docker, no network beyond pip.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON_BOOT ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
# ansible-test's --python X.Y: the version .venv is made with.
PY_VERSION  ?= $(shell $(PYTHON_BOOT) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV        := .venv
VENV_BIN    := $(abspath $(VENV))/bin
STAMP       := $(VENV)/.installed-dev
BUILD       := $(abspath .build)
COLL_ROOT   := $(BUILD)
COLL        := $(COLL_ROOT)/ansible_collections/wso2si/keystores
ANSIBLE_TEST = $(VENV_BIN)/ansible-test
# Arguments for ansible-test, e.g. `make sanity TEST_ARGS="--test pylint"`,
# `make integration TEST_ARGS="si_keystore"`.
TEST_ARGS   ?=
SYNC_EXCLUDES := .venv .build .git tests/output __pycache__ '*.pyc' bench/output \
                 tests/integration/integration_config.yml \
                 rollout-ca 'rollout-ca-*' rollout-csr rollout-signed
# Real SI files, read by tests when present (never copied into the project).
FIXTURES    := $(abspath ../shared/fixtures/si)
# WSO2's sources, built at test time to run SI's own start-up code (tests/utils/wso2_real.py).
SHARED      := $(abspath ../shared)
INTEGRATION_CONFIG := $(COLL)/tests/integration/integration_config.yml
# Developer and CI tools (ansible-lint, antsibull-changelog, ansible-builder) in
# a venv of their own, so their pins never shift requirements-dev.txt's.
TOOLS       := $(BUILD)/tools
TOOLS_BIN   := $(TOOLS)/bin
TOOLS_STAMP := $(TOOLS)/.installed-tools

# `make test` builds the copy (and get-pip, the tools) once, then runs its
# parts side by side with TEST_PART=1: they must not rebuild it under each other.
# .ci/run builds them once and exports TEST_PART=1 for all of its parts.
ifdef TEST_PART
PREP_COLL  :=
PREP_PIP   :=
PREP_TOOLS :=
else
PREP_COLL  := collection
PREP_PIP   := get-pip
PREP_TOOLS := tools
endif
# sanity in a copy of its own, beside the integration lanes (.build/itest)
SANITY_COLL := $(BUILD)/sanity/ansible_collections/wso2si/keystores

export PATH := $(VENV_BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
ifdef CI
export ANSIBLE_NOCOLOR := 1
endif
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv collection get-pip units units-pytest sanity sanity-copy integration test clean-junit demo demo-stop tls-check clean distclean build
.PHONY: tools lint changelog package-check ssh-fleet fuzz

help:
	@echo "Try it:"
	@echo "  make demo             the rollout on a local demo fleet of DEMO_HOSTS (default 3) SI homes;"
	@echo "                        needs Java (a JDK); its Java stand-ins for SI keep running"
	@echo "  make demo-stop        stop the demo fleet's stand-ins"
	@echo "Tests (TEST_ARGS passes arguments on, e.g. make sanity TEST_ARGS='--test pep8'):"
	@echo "  make test             units + sanity + integration + lint (what CI runs)"
	@echo "  make units            unit tests through ansible-test units"
	@echo "  make units-pytest     the same unit tests with plain pytest from .venv (quicker)"
	@echo "  make sanity           ansible-test sanity"
	@echo "  make integration      integration targets (TEST_ARGS=si_keystore for one)"
	@echo "  make lint             ansible-lint, ansible-doc of every module and the role, changelog lint"
	@echo "  make fuzz             the long random fuzz run (WSO2SI_FUZZ_EXAMPLES, default $(FUZZ_EXAMPLES))"
	@echo "  make ssh-fleet        the rollout over SSH to 3 loopback hosts (root only)"
	@echo "  make bench            benchmarks, 60 to 90 minutes; writes BENCHMARKS.md"
	@echo "  make bench-smoke      the benchmarks at tiny sizes, about a minute (CI)"
	@echo "  make bench-collections  community.general and community.crypto for the benchmark's peer (no Galaxy)"
	@echo "Build and release:"
	@echo "  make build            the release tarball in .build/dist"
	@echo "  make package-check    build, check and install the tarball, run the demo from it"
	@echo "  make changelog        regenerate CHANGELOG.rst/.md and changelogs/changelog.yaml"
	@echo "Environment:"
	@echo "  make venv             .venv with requirements-dev.txt"
	@echo "  make tools            .build/tools with requirements-tools.txt (lint, changelog, builder)"
	@echo "  make collection       copy the tree to .build/ansible_collections/wso2si/keystores"
	@echo "  make tls-check        precompile the Java TLS checker"
	@echo "  make clean            stop the demo's stand-ins, remove .build and tests/output"
	@echo "  make distclean        clean, and remove .venv"

# ---------------------------------------------------------------- environment

venv: $(STAMP)

$(STAMP): requirements-dev.txt
	@if [ ! -x $(VENV)/bin/python ]; then \
	  echo "creating $(VENV) with $(PYTHON_BOOT)"; \
	  $(PYTHON_BOOT) -m venv $(VENV); \
	fi
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 \
	  | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	@touch $@

# ansible-test bootstraps pip in each venv it makes from a cached get-pip
# script it would otherwise download; put the offline stand-in there.
get-pip: $(STAMP)
	@$(VENV_BIN)/python tests/utils/get_pip_standin.py --install

# Copy the tree (minus local state) to where Ansible expects a collection.
collection:
	@mkdir -p $(COLL)
	@if command -v rsync >/dev/null 2>&1; then \
	  rsync -a --delete $(foreach e,$(SYNC_EXCLUDES),--exclude=$(e)) ./ $(COLL)/; \
	else \
	  rm -rf $(COLL) && mkdir -p $(COLL) && \
	  tar -cf - $(foreach e,$(SYNC_EXCLUDES),--exclude=./$(e) --exclude=$(e)) . | tar -C $(COLL) -xf -; \
	fi
	@# ansible-test lists content with git when it finds a .git above it, and
	@# the copy sits in this (ignored) tree: give the copy a repository of its
	@# own, so `git ls-files --others` lists every copied file.
	@[ -d $(COLL)/.git ] || git -C $(COLL) init -q
	@mkdir -p $(dir $(INTEGRATION_CONFIG))
	@{ echo '---'; \
	   echo '# Written by make; vars for ansible-test integration.'; \
	   echo "wso2si_test_repo_root: '$(CURDIR)'"; \
	   echo "wso2si_test_collection_root: '$(COLL)'"; \
	   echo "wso2si_test_fixtures_dir: '$(if $(wildcard $(FIXTURES)/server),$(FIXTURES),)'"; \
	   echo "wso2si_test_shared_dir: '$(if $(wildcard $(SHARED)/wso2-src),$(SHARED),)'"; \
	 } > $(INTEGRATION_CONFIG)

# ---------------------------------------------------------------- tests

# First on PATH for units and integration: java, keytool and javac with the JVM
# start-up flags of tests/utils/tls_check.py (C1 only, serial GC, CDS), which
# about halve the CPU of each of the hundreds of short JVMs the tests start
# (tests/utils/fast-jvm/java says more). Not for the demo, bench or ssh-fleet.
FAST_JVM    := $(CURDIR)/tests/utils/fast-jvm

HAVE_UNITS = [ -n "$$(find tests/unit -name 'test_*.py' -print -quit 2>/dev/null)" ]

# Unit tests: ansible-test units in its own venv (tests/unit/requirements.txt).
units: $(PREP_PIP) $(PREP_COLL)
	@if $(HAVE_UNITS); then \
	  cd $(COLL) && PATH=$(FAST_JVM):$$PATH $(ANSIBLE_TEST) units --python $(PY_VERSION) --venv --color no $(TEST_ARGS); \
	else echo "units: no tests under tests/unit"; fi

# The same tests with plain pytest from .venv (quicker to iterate with).
units-pytest: $(STAMP) collection
	@if $(HAVE_UNITS); then \
	  cd $(COLL) && PATH=$(FAST_JVM):$$PATH PYTHONPATH=$(COLL_ROOT) $(VENV_BIN)/python -m pytest -q -p no:cacheprovider tests/unit $(TEST_ARGS); \
	else echo "units: no tests under tests/unit"; fi

# The long random run of the property and fuzz tests (tests/unit/reliability/test_properties.py).
# Every other run of them is derandomized on seeds kept in the repository, so CI is deterministic;
# add what this finds to FOUND there, with the fix.
FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP) collection
	cd $(COLL) && WSO2SI_HYPOTHESIS_PROFILE=fuzz WSO2SI_FUZZ_EXAMPLES=$${WSO2SI_FUZZ_EXAMPLES:-$(FUZZ_EXAMPLES)} \
	  PYTHONPATH=$(COLL_ROOT) $(VENV_BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/unit/reliability/test_properties.py $(TEST_ARGS)

sanity: $(PREP_PIP) $(PREP_COLL)
	cd $(COLL) && $(ANSIBLE_TEST) sanity --python $(PY_VERSION) --color no $(TEST_ARGS)

# The same in a copy of the built collection, so that it can run beside units
# (ansible-test keeps state under the collection's tests/output).
sanity-copy: $(PREP_PIP) $(PREP_COLL)
	@mkdir -p $(SANITY_COLL)
	@rsync -a --delete --exclude=/tests/output --exclude=/.git $(COLL)/ $(SANITY_COLL)/
	@[ -d $(SANITY_COLL)/.git ] || git -C $(SANITY_COLL) init -q
	cd $(SANITY_COLL) && $(ANSIBLE_TEST) sanity --python $(PY_VERSION) --color no $(TEST_ARGS)

# Every target under tests/integration/targets/ not named setup_* and not
# marked disabled/unsupported in its aliases file, each through
# `ansible-test integration --local`, INTEGRATION_JOBS at a time, each in a
# copy of the collection of its own (tests/utils/integration_parallel.py:
# aliases wso2si/serial and wso2si/lock/NAME keep targets apart).
# TEST_ARGS: target names or groups; options as --option=VALUE.
INTEGRATION_JOBS ?= 3
integration: $(STAMP) $(PREP_COLL)
	@if [ -n "$$(ls tests/integration/targets 2>/dev/null | grep -v '^setup_' || true)" ]; then \
	  PATH=$(FAST_JVM):$$PATH $(VENV_BIN)/python tests/utils/integration_parallel.py --collection $(COLL) --jobs $(INTEGRATION_JOBS) \
	    --python $(PY_VERSION) --ansible-test $(ANSIBLE_TEST) $(TEST_ARGS); \
	else echo "integration: no targets under tests/integration/targets"; fi

# units, sanity, integration and lint side by side (TEST_JOBS of them; each
# part's output is printed whole when it ends), then the time of each.
TEST_JOBS ?= 4
test: clean-junit $(PREP_PIP) $(PREP_TOOLS) $(PREP_COLL)
	@$(VENV_BIN)/python tests/utils/run_parts.py --jobs $(TEST_JOBS) --name test --summary .build/parts/test-times.txt \
	  integration='$(MAKE) --no-print-directory integration TEST_PART=1' \
	  units='$(MAKE) --no-print-directory units TEST_PART=1' \
	  sanity='$(MAKE) --no-print-directory sanity-copy TEST_PART=1' \
	  lint='$(MAKE) --no-print-directory lint TEST_PART=1'

clean-junit:
	@rm -rf $(COLL)/tests/output/junit

# ---------------------------------------------------------------- demo, tools

DEMO_DIR ?= $(BUILD)/demo

demo: $(STAMP) collection
	@REPO_ROOT=$(CURDIR) COLLECTION_DIR=$(COLL) DEMO_DIR=$(DEMO_DIR) \
	  TLS_CHECK="$(VENV_BIN)/python $(CURDIR)/tests/utils/tls_check.py" bash demo/run.sh

# Stop the demo fleet's stand-ins: those its homes record, and any serving a
# keystore under DEMO_DIR (an earlier fleet's, also after its directory went).
# Without .venv (a fresh checkout, after distclean) python3 does it.
DEMO_PYTHON = $(if $(wildcard $(VENV_BIN)/python),$(VENV_BIN)/python,python3)
demo-stop:
	@$(DEMO_PYTHON) demo/fleet.py stop-all $(DEMO_DIR)

# Precompile the Java TLS checker (optional; tls_check.py does it on demand).
tls-check:
	@python3 tests/utils/tls_check.py --compile-only

build: $(STAMP) collection
	cd $(COLL) && ansible-galaxy collection build --force --output-path $(BUILD)/dist

# Benchmarks (bench/run.py): the modules beside community.general and keytool,
# the rollout role beside its peer written with community.general and
# community.crypto (bench/peer/), ratios measured in one run. `bench` (manual,
# 60 to 90 minutes on 2 idle cores) writes BENCHMARKS.md (raw numbers in
# bench/output/results.json); `bench-smoke` (tiny sizes, one run, the peer at
# 1 host) keeps it from rotting in CI. Both first run `bench-collections`: the
# pinned `ansible` wheel downloaded with pip (--no-deps, nothing installed,
# SHA-256 checked) into .build/bench-cache/pip, and community.general and
# community.crypto extracted from it into .build/bench-collections (no Galaxy).
# BENCH_ARGS passes options, e.g. BENCH_ARGS='--scenarios 4 --hosts 20,100 --output bench/output/fleet.md'.
BENCH_ARGS ?=
.PHONY: bench bench-smoke bench-collections
bench: $(STAMP) collection bench-collections
	$(VENV_BIN)/python bench/run.py $(BENCH_ARGS)

bench-smoke: $(STAMP) $(PREP_COLL) bench-collections
	$(VENV_BIN)/python bench/run.py --smoke $(BENCH_ARGS)

bench-collections: $(STAMP)
	$(VENV_BIN)/python bench/peer_collections.py

# ---------------------------------------------------------------- packaging, lint

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	@if [ ! -x $(TOOLS_BIN)/python ]; then \
	  echo "creating $(TOOLS) with $(PYTHON_BOOT)"; \
	  $(PYTHON_BOOT) -m venv $(TOOLS); \
	fi
	$(TOOLS_BIN)/python -m pip install -q --disable-pip-version-check -r requirements-tools.txt 2>&1 \
	  | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	@touch $@

# ansible-lint over the built copy (.ansible-lint: production profile, the
# role, the playbooks and every other playbook outside ansible-test's tree);
# ansible-doc renders every module and role with typed, described options
# (tests/utils/check_docs.py); the changelog fragments lint and CHANGELOG.rst,
# CHANGELOG.md and changelogs/changelog.yaml are what `make changelog` makes.
lint: $(STAMP) $(PREP_TOOLS) $(PREP_COLL)
	cd $(COLL) && PATH=$(TOOLS_BIN):$$PATH ansible-lint
	$(VENV_BIN)/python tests/utils/check_docs.py --collection-root $(COLL)
	cd $(COLL) && $(TOOLS_BIN)/antsibull-changelog lint
	cd $(COLL) && PATH=$(TOOLS_BIN):$$PATH antsibull-changelog generate --reload-plugins --refresh
	@for f in CHANGELOG.rst CHANGELOG.md changelogs/changelog.yaml; do \
	  diff -u $$f $(COLL)/$$f || { echo "lint: $$f is stale: run make changelog" >&2; exit 1; }; \
	done

# Regenerate CHANGELOG.rst, CHANGELOG.md and changelogs/changelog.yaml from the
# fragments (the release in changelog.yaml, its date kept) and the modules.
changelog: tools collection
	cd $(COLL) && PATH=$(TOOLS_BIN):$$PATH antsibull-changelog generate --reload-plugins --refresh
	@for f in CHANGELOG.rst CHANGELOG.md changelogs/changelog.yaml; do cp $(COLL)/$$f $$f; done

# The release tarball: no junk in it, installs with ansible-galaxy into a fresh
# path, ansible-builder sees its EE dependencies, and the demo runs from the
# installed copy (tests/utils/package_check.sh).
package-check: $(STAMP) $(PREP_TOOLS) $(PREP_COLL)
	@COLL=$(COLL) BUILD=$(BUILD) VENV_BIN=$(VENV_BIN) TOOLS_BIN=$(TOOLS_BIN) bash tests/utils/package_check.sh

# The rollout over SSH to 3 hosts on 127.0.0.2-4, with become to an
# unprivileged SI user (tests/ssh/run.sh; needs root: it runs sshd, adds users).
ssh-fleet: $(STAMP) $(PREP_COLL)
	@bash tests/ssh/run.sh

# The stand-ins of every fleet under .build (the demo's, package-check's) are
# stopped first: removing their directories would leave them holding ports.
clean:
	@$(DEMO_PYTHON) demo/fleet.py stop-all $(BUILD)
	rm -rf .build tests/output

distclean: clean
	rm -rf $(VENV)
