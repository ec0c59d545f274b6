#!/usr/bin/env bash
# `make lint`: gofmt, go vet in every module of go.work, the rule that only
# the dataservice talks to databases (no other go.mod may require a database
# driver and no .go file outside dataservice/ may import one), and the module
# boundaries: services never depend on each other or on tools, foundation
# depends on no layer, web/ depends on foundation only and nothing on web/,
# protos/ holds generated code only, deploy/ (the tests of the images and
# manifests) depends on no PrivateIM module.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mapfile -t modules < <(go list -m -f '{{.Dir}}' | sed "s|^$root/||")
fail=0

unformatted=$(gofmt -l "${modules[@]}")
if [ -n "$unformatted" ]; then
	echo "lint: gofmt would change:" >&2
	echo "$unformatted" >&2
	fail=1
fi

for m in "${modules[@]}"; do
	(cd "$m" && go vet ./...) || { echo "lint: go vet failed in $m" >&2; fail=1; }
done

# Module paths of database drivers (SQL, MongoDB, Cassandra, ClickHouse, ...).
drivers='github\.com/go-sql-driver/mysql|go\.mongodb\.org/mongo-driver|github\.com/lib/pq|github\.com/jackc/pgx|github\.com/jackc/pgconn|github\.com/mattn/go-sqlite3|modernc\.org/sqlite|github\.com/microsoft/go-mssqldb|github\.com/denisenkom/go-mssqldb|github\.com/sijms/go-ora|github\.com/godror/godror|github\.com/ClickHouse/clickhouse-go|github\.com/gocql/gocql|gorm\.io/driver|github\.com/ziutek/mymysql|github\.com/go-mysql-org'
for m in "${modules[@]}"; do
	[ "$m" = dataservice ] && continue
	# tools/go.mod pins developer tools (mailpit keeps its mail in SQLite):
	# what they require indirectly is theirs, not ours; a direct requirement
	# still fails.
	skip='^$'
	[ "$m" = tools ] && skip='// indirect$'
	if hits=$(grep -nE "(^|[[:space:]])($drivers)[^[:space:]]*[[:space:]]+v[0-9]" "$m/go.mod" | grep -vE "$skip"); then
		echo "lint: only dataservice/go.mod may require a database driver; $m/go.mod does:" >&2
		echo "$hits" >&2
		fail=1
	fi
done
if hits=$(find . -name '*.go' -not -path './dataservice/*' -not -path './.dev/*' -not -path './.git/*' -print0 |
	xargs -0 -r grep -nE "\"($drivers)[^\"]*\""); then
	echo "lint: only dataservice may import a database driver; these files do:" >&2
	echo "$hits" >&2
	fail=1
fi

# Module boundaries. Each rule checks go.mod (what `GOWORK=off` builds use)
# and the imports of .go files (go.work resolves an import of a workspace
# module that go.mod never required, so go.mod alone would miss it).
prefix='github.com/privateim/privateim'
services='dataservice userservice messageservice subscriptionservice'
is_service() { [[ " $services " == *" $1 "* ]]; }

# gomod_deps prints one line per requirement ("require PATH") and per
# replacement ("replace OLD NEW") of a go.mod, single-line or in blocks.
gomod_deps() {
	awk '
		{ sub(/\/\/.*/, "") }
		/^[[:space:]]*$/ { next }
		/^[a-z]+[[:space:]]*\($/ { block = $1; next }
		/^\)/ { block = ""; next }
		{
			verb = block
			if (verb == "") { verb = $1; $1 = ""; $0 = $0 }
			if (verb == "require") print "require", $1
			if (verb == "replace") {
				split($0, side, "=>"); split(side[1], o, " "); split(side[2], n, " ")
				print "replace", o[1], n[1]
			}
		}' "$1"
}

# imports_of DIR prints file:line: for every import of a privateim module
# path matching the extended regexp $2 in DIR's .go files.
imports_of() {
	find "$1" -name '*.go' -not -path '*/.dev/*' -print0 |
		xargs -0 -r grep -nE "^[[:space:]]*(import[[:space:]]+)?([A-Za-z_.][A-Za-z0-9_]*[[:space:]]+)?\"$prefix/($2)(/[^\"]*)?\"" || true
}

boundary() {
	echo "lint: $1" >&2
	echo "$2" >&2
	fail=1
}

while IFS= read -r gomod; do
	m=${gomod#./}
	m=${m%/go.mod}
	deps=$(gomod_deps "$gomod")
	required() { echo "$deps" | awk -v p="$prefix/$1" '$1 == "require" && $2 == p' ; }
	# (a) a service never requires another service.
	if is_service "$m"; then
		for s in $services; do
			[ "$s" = "$m" ] && continue
			[ -n "$(required "$s")" ] && boundary "$m/go.mod requires the $s module: services never depend on each other (shared code goes to foundation/)" "$(required "$s")"
		done
	fi
	# (b) only tools requires tools.
	if [ "$m" != tools ] && [ -n "$(required tools)" ]; then
		boundary "$m/go.mod requires the tools module: nothing but tools/ may" "$(required tools)"
	fi
	# (d) foundation requires neither protos nor a service.
	if [ "$m" = foundation ]; then
		for s in protos tools $services; do
			[ -n "$(required "$s")" ] && boundary "foundation/go.mod requires the $s module: foundation imports only the standard library and third-party packages" "$(required "$s")"
		done
	fi
	# (f) deploy checks what ships from the outside: it builds the binaries
	# and reads their -h, and requires no PrivateIM module.
	if [ "$m" = deploy ]; then
		hits=$(echo "$deps" | awk -v p="$prefix/" '$1 == "require" && index($2, p) == 1')
		[ -n "$hits" ] && boundary "deploy/go.mod requires a PrivateIM module: deploy reads the binaries' -h instead of importing their code" "$hits"
	fi
	# (e) no replace leads to a service module, by module path or by directory.
	hits=$(echo "$deps" | awk -v prefix="$prefix" -v services="$services" '
		$1 == "replace" {
			n = split(services, svc, " ")
			for (i = 1; i <= n; i++)
				if ($2 == prefix "/" svc[i] || $3 == prefix "/" svc[i] || $3 ~ ("(^|/)" svc[i] "/?$")) print
		}')
	[ -n "$hits" ] && boundary "$m/go.mod replaces a service module: services are never dependencies" "$hits"
done < <(find . -name go.mod -not -path './.git/*' -not -path './.dev/*' | sort)

# The same boundaries in the imports.
for m in $services; do
	others=$(echo "$services" | tr ' ' '\n' | grep -vx "$m" | paste -sd '|')
	hits=$(imports_of "$m" "$others|tools")
	[ -n "$hits" ] && boundary "$m imports another service or tools: services never depend on each other or on tools" "$hits"
done
hits=$(imports_of foundation "protos|tools|${services// /|}")
[ -n "$hits" ] && boundary "foundation imports protos, tools or a service: it imports only the standard library and third-party packages" "$hits"
hits=$(imports_of deploy "protos|foundation|tools|${services// /|}")
[ -n "$hits" ] && boundary "deploy imports a PrivateIM module: it checks the binaries from the outside (their -h), never their code" "$hits"
hits=$(imports_of protos "foundation|tools|${services// /|}")
[ -n "$hits" ] && boundary "protos imports foundation, tools or a service: generated code imports only grpc/protobuf" "$hits"

# web/ (the web app and its gateway) speaks to the services only over their
# public HTTP and WebSocket APIs: it imports foundation and nothing else of
# ours, and nothing of ours imports it (make run builds its binary by path).
hits=$(imports_of web "protos|tools|${services// /|}")
[ -n "$hits" ] && boundary "web imports protos, tools or a service: the web app's gateway reaches the services over their public APIs only" "$hits"
for m in foundation protos tools $services; do
	hits=$(imports_of "$m" web)
	[ -n "$hits" ] && boundary "$m imports the web module: nothing depends on web/" "$hits"
	if [ -f "$m/go.mod" ] && gomod_deps "$m/go.mod" | awk -v p="$prefix/web" '$1 == "require" && $2 == p' | grep -q .; then
		boundary "$m/go.mod requires the web module: nothing depends on web/" "$m/go.mod"
	fi
done
if [ -f web/go.mod ] && hits=$(gomod_deps web/go.mod | awk -v prefix="$prefix" -v services="protos tools $services" '
	$1 == "require" { n = split(services, svc, " "); for (i = 1; i <= n; i++) if ($2 == prefix "/" svc[i]) print }') && [ -n "$hits" ]; then
	boundary "web/go.mod requires protos, tools or a service: it requires foundation only" "$hits"
fi

# (c) protos/ holds generated code only: each .go file carries the standard
# header (https://go.dev/s/generatedcode) before its package clause.
hits=$(find protos -name '*.go' -print0 | xargs -0 -r awk '
	FNR == 1 { ok = 0; done = 0 }
	done { next }
	/^\/\/ Code generated .* DO NOT EDIT\.$/ { ok = 1 }
	/^package[[:space:]]/ { if (!ok) print FILENAME; done = 1 }')
[ -n "$hits" ] && boundary "protos/ holds .go files that are not generated (no \"// Code generated ... DO NOT EDIT.\" before the package clause); hand-written code goes to foundation/ or a service" "$hits"

exit $fail
