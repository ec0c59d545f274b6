#!/usr/bin/env bash
# Builds .dev/bin/versitygw, the S3-compatible server the userservice's S3
# file store is tested against (github.com/versity/versitygw with its posix
# backend: buckets are directories, objects files). Does nothing when the
# binary is already there; `rm .dev/bin/versitygw` to rebuild.
#
# The source comes from the Go module proxy only (`go mod download`) and is
# built as the module zip has it, outside this repository's go.work. Chosen
# over SeaweedFS `weed` for its cheaper build: measured cold cost in
# docs/benchmarks.md ("Cold start").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=v1.8.0
out=${VERSITYGW_BIN:-$root/.dev/bin/versitygw}

# shellcheck source=scripts/modbuild.sh
. "$root/scripts/modbuild.sh"
build_once "$out"
src=$(module_dir github.com/versity/versitygw "$version")

echo "versitygw.sh: building versitygw $version into $out (once; takes a few minutes)" >&2
# Built to a temporary name first so that a concurrent or interrupted build
# never leaves a half-written binary where the check above would accept it.
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cd "$src"
GOWORK=off GOFLAGS='-mod=mod -buildvcs=false' CGO_ENABLED=0 \
	go build -trimpath -o "$tmp" ./cmd/versitygw
chmod +x "$tmp"
mv "$tmp" "$out"
