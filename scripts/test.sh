#!/usr/bin/env bash
# `make test` once provisioned and with certificates: lint, generate-check,
# tidy-check, then one `go test` over the packages of every module of
# go.work. GOTEST_FLAGS (from the Makefile) are go test's flags.
#
# Laid out for a cold start (empty module and build caches, no .dev/bin),
# where most of the time is compiling on few cores (docs/benchmarks.md,
# "Cold start"):
#   - Work that waits on the network or builds something only a few tests
#     need runs in the background while lint compiles: the module downloads
#     and tidy-check (which downloads what GOWORK=off resolves differently),
#     and the zincsearch, versitygw (S3) and mailpit builds, and the web build (node/npm
#     if missing, npm ci, tsc: scripts/web.sh). Their output goes to
#     .dev/log/<step>.log and is printed when the step fails.
#   - One `go test` over every module instead of one per module, so the
#     next packages compile while the slow integration tests of the last
#     run; per module, each module waited for its slowest test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MAKE=${MAKE:-make}
logs=.dev/log
mkdir -p "$logs"

mapfile -t modules < <(go list -m -f '{{.Dir}}' | sed "s|^$root/||")
packages=()
for m in "${modules[@]}"; do
	packages+=("./$m/...")
done

# background NAME CMD... runs CMD in a process group of its own with its
# output in .dev/log/NAME.log; finish NAME waits for it and prints the log
# when it failed.
declare -A pids
background() {
	local name=$1
	shift
	setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
	pids[$name]=$!
}
finish() {
	local name=$1 pid=${pids[$1]}
	unset "pids[$1]"
	if ! wait "$pid"; then
		echo "== $name failed (.dev/log/$name.log):" >&2
		tail -50 "$logs/$name.log" >&2
		return 1
	fi
}
# An early exit (lint failed, Ctrl-C) takes the background steps with it.
trap 'for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done' EXIT
trap 'exit 130' INT TERM

# Downloads first: lint's go vet then finds most modules in the cache.
background tidy-check bash -c "go mod download && $MAKE --no-print-directory tidy-check"
# zincsearch.sh takes a lock, so the search tests that call it wait for
# this build instead of starting a second one. mailpit goes where `make run`
# builds it; for the tests this fills the build cache, and stacktest's own
# `go build` of mailpit only links.
background builds bash -c 'bash scripts/zincsearch.sh && go build -o .dev/bin/ github.com/axllent/mailpit'
# The S3 tests (stacktest.StartS3) wait for this build on its lock.
background versitygw bash scripts/versitygw.sh
# The SDK's tests (tools/sdktest) wait for this build on its lock, the
# browser tests (web/internal/browsertest) for it and the chromium install.
background web bash scripts/web.sh

$MAKE --no-print-directory lint
$MAKE --no-print-directory generate-check
finish tidy-check
echo 'tidy-check: every go.mod is tidy'

fail=0
# shellcheck disable=SC2086 # GOTEST_FLAGS is a list of flags
go test ${GOTEST_FLAGS:-} "${packages[@]}" || fail=1
finish builds || fail=1
finish versitygw || fail=1
finish web || fail=1
exit $fail
