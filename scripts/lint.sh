#!/usr/bin/env bash
# `make lint`: gofmt, go vet in every module of go.work, and the rule that
# only the dataservice talks to databases: no other go.mod may require a
# database driver and no .go file outside dataservice/ may import one.
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

exit $fail
