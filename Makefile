# The two commands of the README: `make run` and `make test`. Both install what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# cargo-leptos decides Tailwind v3 vs v4 behaviour from this string; it must match package.json.
export LEPTOS_TAILWIND_VERSION := v$(shell sed -n 's/.*"tailwindcss": "\([0-9.]*\)".*/\1/p' package.json)
export PORTAL_ADDR ?= 127.0.0.1:3000
PYTEST := .venv/bin/pytest

.PHONY: tools-run tools-test build build-debug run test test-rust test-rust-postgres test-python test-python-postgres test-browser bench soak fuzz clean

## What building and running needs (toolchain, Tailwind, wasm-opt); tools-test adds what only the
## tests and benchmarks need (Chromium, LibreOffice, Postgres, nginx, wrk, s3s-fs, npm test servers,
## the Python venv).
tools-run:
	@.ci/tools.sh run

tools-test:
	@.ci/tools.sh test

## Release build of the site (wasm, CSS) and the server; the binary is target/release/portal.
build: tools-run
	cargo leptos build --release

build-debug: tools-test
	$(LINTED) cargo leptos build

## Serve the demo on the embedded default (SQLite catalog + local Delta tables).
run: build
	@./target/release/portal demo
	@echo
	@echo "Admin console (one-time sign-in link, valid 60 minutes):"
	@./target/release/portal admin login-link --ttl-minutes 60
	@echo
	@echo "Partner Data Portal: http://$(PORTAL_ADDR)/"
	@echo "Delta Sharing endpoint: http://$(PORTAL_ADDR)/delta-sharing"
	@echo "Open an activation link above: it downloads the partner's credential file and signs"
	@echo "the browser in to the portal (browse, filter, facet and page through the partner's tables)."
	@echo "Signed in: http://$(PORTAL_ADDR)/connect for tokens and tool guides, /exports for large downloads."
	@./target/release/portal serve

## The suites after the build run two at a time, each one's output printed whole when it ends.
test:
	cargo fmt --all --check
	$(MAKE) build-debug test-rust
	$(MAKE) -j2 --output-sync=target test-python test-python-postgres test-browser test-rust-postgres

## Clippy (-D warnings) lints the workspace's crates while they are built for the tests, as
## `cargo clippy` itself does it (clippy-driver as the workspace's compiler wrapper), so the
## dependencies are compiled once, not once more for a separate check.
LINTED = RUSTC_WORKSPACE_WRAPPER=$(shell rustup which clippy-driver) CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
CARGO_TEST = cargo test -p server -p app --features app/ssr --quiet

## Every suite that touches the catalog runs twice: on SQLite (the default) and on a throwaway
## Postgres cluster (e2e/postgres/cluster.sh), one database per test.
test-rust:
	$(LINTED) $(CARGO_TEST)

test-rust-postgres:
	$(LINTED) e2e/postgres/with-cluster.sh $(CARGO_TEST) --lib

E2E_ENV = PORTAL_BIN=$(CURDIR)/target/debug/portal PORTAL_SITE_ROOT=$(CURDIR)/target/site

test-python:
	$(E2E_ENV) $(PYTEST) e2e/python -q

test-python-postgres:
	PORTAL_TEST_CATALOG=postgres $(E2E_ENV) e2e/postgres/with-cluster.sh $(PYTEST) e2e/python -q

test-browser:
	$(E2E_ENV) node --test e2e/browser/

bench: tools-test
	cargo build --release -p server --bin portal --example xlsx_limit
	PORTAL_BIN=$(CURDIR)/target/release/portal .venv/bin/python e2e/bench/bench.py
	PORTAL_BIN=$(CURDIR)/target/release/portal .venv/bin/python e2e/bench/million_bench.py
	PORTAL_BIN=$(CURDIR)/target/release/portal .venv/bin/python e2e/bench/preview_bench.py
	PORTAL_BIN=$(CURDIR)/target/release/portal .venv/bin/python e2e/bench/export_bench.py
	PORTAL_BIN=$(CURDIR)/target/release/portal .venv/bin/python e2e/bench/changes_bench.py
	PORTAL_BIN=$(CURDIR)/target/release/portal .venv/bin/python e2e/bench/store_bench.py
	PORTAL_BIN=$(CURDIR)/target/release/portal .venv/bin/python e2e/bench/load_bench.py

## Soak (not part of `make test`, not in CI): 10 minutes of mixed load on the release build
## (protocol reads, previews, downloads, export jobs, sign-ins, admin changes). Fails on any 5xx,
## on RSS at the end above 1.2x the 2-minute mark, or on open fds growing by more than 10; writes
## bench-results/soak.json. Longer or heavier: make soak SOAK_ARGS="--minutes 30 --scale 2".
soak: tools-test
	$(MAKE) build
	PORTAL_BIN=$(CURDIR)/target/release/portal PORTAL_SITE_ROOT=$(CURDIR)/target/site .venv/bin/python e2e/bench/soak.py $(SOAK_ARGS)

## Property tests of every parser of untrusted text, for FUZZ_MINUTES (default 30), with a report
## (bench-results/fuzz.json); `make test` runs them with a short budget (256 cases each).
fuzz: tools-test
	.venv/bin/python e2e/fuzz/fuzz.py --minutes $(or $(FUZZ_MINUTES),30)

clean:
	cargo clean
	rm -rf data bench-results e2e/screenshots
