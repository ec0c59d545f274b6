# PrivateIM. On a fresh Debian/Ubuntu machine (root or sudo, Go installed):
#   make run    provision, make certs, build and start the services; Ctrl-C stops them
#   make test   provision, lint, check generated code and go.mod files, go test -race every module
#               (scripts/test.sh)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Go 1.26.8 has standard-library vulnerabilities that govulncheck reports as
# called (fixed in 1.26.9 and 1.26.10; docs/security.md, Dependencies);
# go1.27.3 is the newer Go the module proxy serves here. Every target builds
# and tests with it; the go command fetches it once (76 MB, ~10 s).
GOTOOLCHAIN := go1.27.3
export GOTOOLCHAIN
# -buildvcs=false: builds in CI checkouts and copies need no git metadata.
GOFLAGS ?= -buildvcs=false
export GOFLAGS
GOTEST_FLAGS ?= -race -count=1 -timeout 15m

# Every module of go.work, as a path relative to here.
MODULES = $(shell go list -m -f '{{.Dir}}' | sed 's|^$(CURDIR)/||')
# .dev/env holds the MYSQL_DSN that scripts/provision.sh chose.
WITH_ENV = set -a; . ./.dev/env; set +a

.PHONY: help run test test-faults load soak lint generate generate-check tidy-check vulncheck certs provision search-deps db-stop clean

help:
	@echo 'make run             start the dev stack (provisions MySQL, makes certs); Ctrl-C stops it'
	@echo 'make test            lint, generate-check, tidy-check, then go test -race over every module'
	@echo 'make test-faults     tools/loadgen faults at a real size: 3 message nodes, 3 NATS servers, five faults'
	@echo 'make load            tools/loadgen --local at medium sizes, every workload (docs/benchmarks.md)'
	@echo 'make soak            30 minutes of load and churn; goroutines and RSS every minute must stay flat'
	@echo 'make lint            gofmt, go vet, only dataservice may use a database driver, module boundaries'
	@echo 'make generate        regenerate protos/ Go code'
	@echo 'make generate-check  fail when the committed generated code is stale'
	@echo 'make tidy-check      fail when a go.mod/go.sum is not tidy (GOWORK=off)'
	@echo 'make vulncheck       govulncheck over every module, offline, with a database built from the module proxy'
	@echo 'make certs           make the dev CA and certificates in certs/'
	@echo 'make provision       install what is missing, find or start MySQL'
	@echo 'make search-deps     build .dev/bin/zincsearch (once) for the Elasticsearch adapter tests'
	@echo 'make db-stop         stop the private mariadbd, if provision started one'
	@echo 'make clean           db-stop, remove binaries, private MySQL data and certs'

provision:
	@bash scripts/provision.sh

certs:
	@go run ./tools/certgen -dir certs

run: provision certs
	@WEB_NO_CHROMIUM=1 bash scripts/web.sh
	@go build -o .dev/bin/devstack ./tools/devstack
	@$(WITH_ENV); exec .dev/bin/devstack -certs certs -bin .dev/bin

# lint, generate-check and tidy-check, then one go test over every module;
# scripts/test.sh overlaps the downloads and the zincsearch build with them
# (docs/benchmarks.md, "Cold start").
test: provision certs
	@$(WITH_ENV); GOTEST_FLAGS='$(GOTEST_FLAGS)' MAKE='$(MAKE)' bash scripts/test.sh

# The faults workload of tools/loadgen at a real size (docs/benchmarks.md,
# "Faults"): its own MariaDB, DataService, userservice, 3 NATS servers and 3
# message nodes; a node SIGKILL, DataService, NATS and MariaDB restarts and
# a held slow reader under p2p + group load. Exit 1 when a message acked
# with `sent` is missing or doubled or a fault is not served again in 10 s.
# `make test` runs it small (TestFaults in tools/loadgen). FAULTS_FLAGS adds
# flags (e.g. --json, --faults kill-node).
FAULTS_FLAGS ?=
test-faults: provision
	@go build -o .dev/bin/loadgen ./tools/loadgen
	@.dev/bin/loadgen faults --pairs 200 --members 100 --publishers 10 --rate 500 --duration 30s $(FAULTS_FLAGS)

# A medium run of every workload of tools/loadgen, each against its own
# --local stack (fresh database, dropped after). LOAD_FLAGS adds flags to
# every run (e.g. --baseline, --json); LOAD_WORKLOADS replaces the list.
LOAD_FLAGS ?=
LOAD_WORKLOADS ?= \
	'idle -n 2000' \
	'p2p --pairs 200 --rate 1000 --duration 20s' \
	'group --members 100 --publishers 10 --rate 200 --duration 20s' \
	'broadcast --followers 2000 --posts 3' \
	'storm -n 1000'
load: provision
	@go build -o .dev/bin/loadgen ./tools/loadgen
	@$(WITH_ENV); fail=0; \
	for w in $(LOAD_WORKLOADS); do \
		echo "== loadgen $$w --local $(LOAD_FLAGS)"; \
		.dev/bin/loadgen $$w --local $(LOAD_FLAGS) || fail=1; \
	done; \
	exit $$fail

# 30 minutes of p2p + group traffic and connection churn against a --local
# stack; the servers' goroutines, heap and RSS are printed every minute and
# must stay flat (exit 1 otherwise). Not part of `make test`.
SOAK_FLAGS ?= --duration 30m --interval 1m
soak: provision
	@go build -o .dev/bin/loadgen ./tools/loadgen
	@$(WITH_ENV); .dev/bin/loadgen soak --local $(SOAK_FLAGS)

lint:
	@bash scripts/lint.sh
	@echo 'lint: gofmt, go vet, the database-driver rule and the module boundaries pass'

generate:
	@bash scripts/generate.sh

# Regenerates into a copy of protos/ so that a failure leaves the tree as it was.
generate-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -a protos/. "$$tmp/"; \
	bash scripts/generate.sh "$$tmp"; \
	if ! diff -r protos "$$tmp" >/dev/null; then \
		diff -ru protos "$$tmp" | head -50 >&2; \
		echo 'generate-check: generated code in protos/ is stale; run `make generate` and commit' >&2; \
		exit 1; \
	fi; \
	echo 'generate-check: protos/ is up to date'

tidy-check:
	@fail=0; for m in $(MODULES); do \
		(cd "$$m" && GOWORK=off go mod tidy -diff) || { echo "tidy-check: run 'go mod tidy' in $$m" >&2; fail=1; }; \
	done; \
	if [ $$fail = 0 ]; then echo 'tidy-check: every go.mod is tidy'; fi; exit $$fail

# govulncheck without vuln.go.dev: the database is built once from the
# golang.org/x/vulndb module (docs/security.md, "Dependencies"). Not part of
# `make test`: a warm run scans for minutes. Exit 3 when vulnerable code is
# called.
vulncheck:
	@bash scripts/govulncheck.sh

# zincsearch stands in for Elasticsearch in the search tests (which also call
# the script themselves); built once from the Go module proxy, see the script.
search-deps:
	@bash scripts/zincsearch.sh

db-stop:
	@bash scripts/provision.sh stop

clean: db-stop
	rm -rf .dev/bin .dev/mariadb .dev/mariadb.* .dev/mariadb-install.log .dev/env certs/*.pem
