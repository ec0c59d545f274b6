#!/usr/bin/env bash
# Builds .dev/bin/zincsearch, the Elasticsearch-compatible server the search
# tests run the elastic adapter against (no Elasticsearch installs here).
# Does nothing when the binary is already there; `rm .dev/bin/zincsearch` to
# rebuild.
#
# The source comes from the Go module proxy only (`go mod download`), is
# patched in a temporary copy and never enters this repository. The module zip
# of v0.4.10 needs two fixes to build:
#   1. embed.go embeds web/dist, the compiled web UI, which the zip lacks: an
#      empty placeholder page takes its place (the API needs no UI).
#   2. github.com/pyroscope-io/client (continuous profiling, off unless
#      configured) does not compile on current Go: a `replace` points it at a
#      stub package with the same API whose Start does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=v0.4.10
out=${ZINCSEARCH_BIN:-$root/.dev/bin/zincsearch}

# shellcheck source=scripts/modbuild.sh
. "$root/scripts/modbuild.sh"
build_once "$out"
src=$(module_dir github.com/zincsearch/zincsearch "$version")

work=$(mktemp -d)
tmp=
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"; [ -z "$tmp" ] || rm -f "$tmp"' EXIT
cp -R "$src/." "$work/zincsearch"
chmod -R u+w "$work/zincsearch"
cd "$work/zincsearch"

# Fix 1: the embedded web UI.
mkdir -p web/dist
printf '<!doctype html><title>zincsearch</title><p>Web UI not built; the API is at /es/.\n' >web/dist/index.html

# Fix 2: a stub of the pyroscope client with the API cmd/zincsearch uses.
mkdir -p "$work/pyroscope/pyroscope"
cat >"$work/pyroscope/go.mod" <<'EOF'
module github.com/pyroscope-io/client

go 1.20
EOF
cat >"$work/pyroscope/pyroscope/pyroscope.go" <<'EOF'
// Package pyroscope stands in for github.com/pyroscope-io/client/pyroscope,
// which does not compile on current Go. Profiling stays off.
package pyroscope

type ProfileType string

const (
	ProfileCPU          ProfileType = "cpu"
	ProfileAllocObjects ProfileType = "alloc_objects"
	ProfileAllocSpace   ProfileType = "alloc_space"
	ProfileInuseObjects ProfileType = "inuse_objects"
	ProfileInuseSpace   ProfileType = "inuse_space"
)

type Logger interface {
	Infof(string, ...interface{})
	Debugf(string, ...interface{})
	Errorf(string, ...interface{})
}

type Config struct {
	ApplicationName string
	ServerAddress   string
	Logger          Logger
	AuthToken       string
	ProfileTypes    []ProfileType
}

type Profiler struct{}

func Start(Config) (*Profiler, error) { return &Profiler{}, nil }

func (*Profiler) Stop() error { return nil }
EOF
GOWORK=off go mod edit -replace "github.com/pyroscope-io/client=$work/pyroscope"

echo "zincsearch.sh: building zincsearch $version into $out (once; takes a few minutes)" >&2
# Built to a temporary name first so that a concurrent or interrupted build
# never leaves a half-written binary where the check above would accept it.
tmp=$(mktemp "$out.XXXXXX")
GOWORK=off GOFLAGS='-mod=mod -buildvcs=false' CGO_ENABLED=0 \
	go build -trimpath -ldflags "-X github.com/zincsearch/zincsearch/pkg/meta.Version=$version" \
	-o "$tmp" ./cmd/zincsearch
chmod +x "$tmp"
mv "$tmp" "$out"
tmp=
