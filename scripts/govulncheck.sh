#!/usr/bin/env bash
# govulncheck over every module of go.work, offline: for machines that cannot
# reach vuln.go.dev (these build machines cannot). The GitHub workflow's
# govulncheck job keeps using the live database; this is its stand-in here.
#
# The database is built from the Go module proxy alone: the module
# golang.org/x/vulndb holds the Go vulnerability database's reports as OSV
# files (data/osv/GO-*.json), and its own cmd/indexdb writes them in the
# layout govulncheck reads from a file:// URL (index/db.json,
# index/modules.json, ID/<id>.json). The OSV files of the module carry no
# modified time (the hosted database takes it from the git history, which a
# module zip lacks), so index/db.json gets the time of the vulndb commit: it
# is the date of the data, and what `-show verbose` prints as "DB updated".
#
# Built once into .dev/ (the database, ~40 MB, and the two tools); later runs
# only scan. Newer data: raise VULNDB_VERSION (a golang.org/x/vulndb
# pseudo-version the proxy serves). Exit status as govulncheck's: 3 when code
# of some module calls a vulnerable symbol (the standard library's too: those
# are fixed by the Go toolchain that builds, not by go.mod), 0 when none does.
#
# Usage: scripts/govulncheck.sh [module dir ...]   (default: every module)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vuln_version=${VULN_VERSION:-v1.9.0}
vulndb_version=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
go_version=$(go env GOVERSION)
dev=$root/.dev
db=$dev/vulndb/$vulndb_version
# govulncheck must be built by the Go that it scans with (it loads the
# standard library's source of that version), so one binary per Go version.
govulncheck=$dev/bin/govulncheck-$vuln_version-$go_version
export GOWORK=off GOFLAGS=-buildvcs=false

mkdir -p "$dev/bin" "$dev/vulndb"
# The downloads and builds below run outside any module of ours.
cd "$dev"
exec 9>"$dev/vulndb/.lock"
flock 9

if [ ! -x "$govulncheck" ]; then
	echo "govulncheck.sh: building govulncheck $vuln_version with $go_version (once)" >&2
	gobin=$(mktemp -d "$dev/bin/.govulncheck.XXXXXX")
	GOBIN=$gobin go install "golang.org/x/vuln/cmd/govulncheck@$vuln_version"
	mv "$gobin/govulncheck" "$govulncheck"
	rmdir "$gobin"
fi

if [ ! -f "$db/index/db.json" ]; then
	echo "govulncheck.sh: building the database of golang.org/x/vulndb@$vulndb_version (once)" >&2
	dl=$(go mod download -json "golang.org/x/vulndb@$vulndb_version")
	src=$(printf '%s\n' "$dl" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	info=$(printf '%s\n' "$dl" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')
	if [ -z "$src" ] || [ ! -d "$src/data/osv" ] || [ -z "$info" ]; then
		echo "govulncheck.sh: golang.org/x/vulndb@$vulndb_version has no data/osv" >&2
		exit 1
	fi
	# {"Version":"...","Time":"2026-11-05T23:49:57Z"}: the commit time.
	modified=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info")
	if [ -z "$modified" ]; then
		echo "govulncheck.sh: no commit time in $info" >&2
		exit 1
	fi
	tmp=$(mktemp -d "$dev/vulndb/.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	GOBIN=$tmp/bin go install "golang.org/x/vulndb/cmd/indexdb@$vulndb_version"
	"$tmp/bin/indexdb" -vulns "$src/data/osv" -out "$tmp/db"
	n=$(find "$tmp/db/ID" -name 'GO-*.json' | wc -l)
	if [ "$n" -eq 0 ] || [ ! -s "$tmp/db/index/modules.json" ]; then
		echo "govulncheck.sh: indexdb wrote no entries" >&2
		exit 1
	fi
	printf '{"modified":"%s"}' "$modified" >"$tmp/db/index/db.json"
	rm -rf "$db"
	mv "$tmp/db" "$db"
	echo "govulncheck.sh: $n entries, data of $modified, in $db" >&2
fi
flock -u 9

if [ $# -gt 0 ]; then
	modules=("$@")
else
	# Every module of go.work, as the workflow's job scans them.
	mapfile -t modules < <(cd "$root" && GOWORK= go list -m -f '{{.Dir}}')
fi

status=0
affected=()
for m in "${modules[@]}"; do
	case $m in /*) ;; *) m=$root/$m ;; esac
	echo "== ${m#"$root"/} (govulncheck $vuln_version, $go_version, golang.org/x/vulndb@$vulndb_version)"
	rc=0
	(cd "$m" && GOWORK= "$govulncheck" -db "file://$db" ./...) || rc=$?
	case $rc in
	0) ;;
	3) status=3 affected+=("${m#"$root"/}") ;;
	*) echo "govulncheck.sh: govulncheck failed in $m (exit $rc)" >&2; exit "$rc" ;;
	esac
done
if [ $status -ne 0 ]; then
	echo "govulncheck.sh: vulnerable code is called in: ${affected[*]}" >&2
fi
exit $status
