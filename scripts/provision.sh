#!/usr/bin/env bash
# Makes this machine ready to run and test PrivateIM, installing only what is
# missing. Idempotent; run it as root or as a user with sudo, on Debian or
# Ubuntu (or here).
#
#   scripts/provision.sh          everything: Go check, gcc (for -race), protoc, MySQL (and the
#                                 mariadbd binary, for the tests' private servers)
#   scripts/provision.sh protoc   protoc only (scripts/generate.sh)
#   scripts/provision.sh mysql    MySQL only
#   scripts/provision.sh stop     stop the private mariadbd, if it runs
#
# MySQL: when a server answers at MYSQL_DSN (default root@tcp(127.0.0.1:3306)/)
# with its credentials, it is used. Otherwise a private mariadbd is started
# without systemd, its data in .dev/mariadb, listening on 127.0.0.1 only, on
# MYSQL_DSN's port when that is a loopback address other than 3306, else on
# PRIVATE_MYSQL_PORT (default 13306), with root reachable over TCP without a
# password. The machine's own MariaDB and its configuration are never
# touched. The DSN to use is written to .dev/env (MYSQL_DSN=...), which the
# Makefile reads.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dev="$root/.dev"
datadir="$dev/mariadb"
sock="$dev/mariadb.sock"
pidfile="$dev/mariadb.pid"
dblog="$dev/mariadb.log"
envfile="$dev/env"

say() { printf 'provision: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: run as root, or install the packages by hand"
	sudo_cmd=(sudo)
fi

apt_updated=
# apt_install PKG... installs the packages with apt-get, running
# `apt-get update` once per run, and only when something is missing.
apt_install() {
	command -v apt-get >/dev/null || die "no apt-get: install $* yourself"
	if [ -z "$apt_updated" ]; then
		say "apt-get update"
		"${sudo_cmd[@]}" apt-get update -qq
		apt_updated=1
	fi
	say "apt-get install $*"
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# find_bin NAME... prints the first of the commands found, also in the sbin
# directories a non-root PATH lacks.
find_bin() {
	local n
	for n in "$@"; do
		command -v "$n" 2>/dev/null && return 0
		for d in /usr/sbin /usr/local/sbin /sbin; do
			[ -x "$d/$n" ] && { echo "$d/$n"; return 0; }
		done
	done
	return 1
}

ensure_go() {
	command -v go >/dev/null || die "Go is missing: install Go 1.26 (or any Go >= 1.21, which fetches the 1.26 toolchain itself): https://go.dev/doc/install"
}

# go test -race needs cgo, so a C compiler and the C library headers.
ensure_cc() {
	command -v gcc >/dev/null && [ -f /usr/include/stdlib.h ] || apt_install gcc libc6-dev
}

# protoc needs the well-known types (google/protobuf/*.proto) too; they come
# with libprotobuf-dev, only a recommendation of protobuf-compiler.
ensure_protoc() {
	local missing=()
	command -v protoc >/dev/null || missing+=(protobuf-compiler)
	[ -f /usr/include/google/protobuf/timestamp.proto ] || missing+=(libprotobuf-dev)
	((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

ensure_client() {
	client=$(find_bin mariadb mysql) || { apt_install mariadb-client; client=$(find_bin mariadb mysql); }
}

ensure_server() {
	mariadbd=$(find_bin mariadbd mysqld) && installdb=$(find_bin mariadb-install-db mysql_install_db) && return 0
	apt_install mariadb-server
	mariadbd=$(find_bin mariadbd mysqld) || die "mariadb-server installed but no mariadbd found"
	installdb=$(find_bin mariadb-install-db mysql_install_db) || die "no mariadb-install-db found"
}

# parse_dsn splits MYSQL_DSN (go-sql-driver format, tcp only) into
# dsn_user, dsn_pass, dsn_host, dsn_port and dsn_rest (the "/db?params" part).
parse_dsn() {
	local dsn=$1 creds
	local re='^((.*)@)?tcp\(([^)]*)\)(/.*)$'
	[[ $dsn =~ $re ]] || die "MYSQL_DSN=$dsn: want user[:password]@tcp(host:port)/[db]"
	creds=${BASH_REMATCH[2]}
	local addr=${BASH_REMATCH[3]}
	dsn_rest=${BASH_REMATCH[4]}
	dsn_user=${creds%%:*}
	dsn_pass=
	[[ $creds == *:* ]] && dsn_pass=${creds#*:}
	if [[ $addr =~ ^\[(.*)\]:([0-9]+)$ ]] || [[ $addr =~ ^([^:]*):([0-9]+)$ ]]; then
		dsn_host=${BASH_REMATCH[1]}
		dsn_port=${BASH_REMATCH[2]}
	else
		dsn_host=${addr:-127.0.0.1}
		dsn_port=3306
	fi
	[ -n "$dsn_host" ] || dsn_host=127.0.0.1
	[ -n "$dsn_user" ] || dsn_user=root
}

# answers HOST PORT USER PASS: the server there accepts these credentials.
answers() {
	MYSQL_PWD=$4 "$client" --no-defaults --protocol=TCP -h "$1" -P "$2" -u "$3" \
		--connect-timeout=2 -N -B -e 'SELECT 1' >/dev/null 2>&1
}

is_loopback() { [[ $1 == 127.* || $1 == localhost || $1 == ::1 ]]; }

private_running() {
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# start_private PORT starts mariadbd on 127.0.0.1:PORT with .dev/mariadb.
start_private() {
	local port=$1 userflag=()
	ensure_server
	[ "$(id -u)" -eq 0 ] && userflag=(--user=root) # mariadbd refuses root unless told
	mkdir -p "$dev"
	if [ ! -d "$datadir/mysql" ]; then
		say "initializing $datadir"
		# --force: no host name lookups, which fail where /etc/hosts is bare;
		# the grant for root@127.0.0.1 is made below.
		rm -rf "$datadir"
		"$installdb" --no-defaults --datadir="$datadir" "${userflag[@]}" \
			--auth-root-authentication-method=normal --skip-test-db --force >"$dev/mariadb-install.log" 2>&1 ||
			{ tail -20 "$dev/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
	fi
	if private_running; then
		die "the private mariadbd (pid $(cat "$pidfile")) runs but does not answer on 127.0.0.1:$port; see $dblog, or stop it with: $0 stop"
	fi
	# Settings for a throw-away test server: durability traded for speed
	# (the OS flushes the log once a second), no binary log, enough
	# connections for parallel test packages.
	say "starting a private mariadbd on 127.0.0.1:$port (data in $datadir, log in $dblog)"
	setsid "$mariadbd" --no-defaults "${userflag[@]}" \
		--datadir="$datadir" --socket="$sock" --pid-file="$pidfile" --log-error="$dblog" \
		--port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--skip-log-bin --max-connections=1000 \
		--innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 --innodb-buffer-pool-size=512M \
		--innodb-log-file-size=256M --innodb-lock-wait-timeout=20 \
		</dev/null >>"$dblog" 2>&1 &
	local pid=$! i
	for ((i = 0; i < 600; i++)); do
		if "$client" --no-defaults --socket="$sock" -u root -N -B -e 'SELECT 1' >/dev/null 2>&1; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || { tail -30 "$dblog" >&2; die "mariadbd exited while starting"; }
		sleep 0.1
	done
	((i < 600)) || { tail -30 "$dblog" >&2; die "mariadbd did not answer within 60s"; }
	# With --skip-name-resolve a TCP client from 127.0.0.1 is 'root'@'127.0.0.1'.
	"$client" --no-defaults --socket="$sock" -u root -e \
		"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
	answers 127.0.0.1 "$port" root "" || die "private mariadbd answers on its socket but not on 127.0.0.1:$port"
}

stop_private() {
	private_running || { say "no private mariadbd runs"; return 0; }
	local pid i
	pid=$(cat "$pidfile")
	say "stopping the private mariadbd (pid $pid)"
	kill -TERM "$pid"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	die "mariadbd $pid did not stop within 60s"
}

provision_mysql() {
	ensure_client
	local dsn=${MYSQL_DSN:-root@tcp(127.0.0.1:3306)/}
	parse_dsn "$dsn"
	if answers "$dsn_host" "$dsn_port" "$dsn_user" "$dsn_pass"; then
		say "MySQL answers at $dsn_host:$dsn_port; using it"
	else
		local port=${PRIVATE_MYSQL_PORT:-13306}
		if is_loopback "$dsn_host" && [ "$dsn_port" != 3306 ]; then
			port=$dsn_port
		fi
		case $port in 3306 | 5432 | 6379 | 4222 | 5672) die "port $port belongs to another server; pick PRIVATE_MYSQL_PORT" ;; esac
		say "no MySQL accepts $dsn_user at $dsn_host:$dsn_port"
		if answers 127.0.0.1 "$port" root ""; then
			say "the private mariadbd answers at 127.0.0.1:$port; using it"
		else
			start_private "$port"
		fi
		dsn="root@tcp(127.0.0.1:$port)$dsn_rest"
	fi
	mkdir -p "$dev"
	printf 'MYSQL_DSN=%q\n' "$dsn" >"$envfile.tmp"
	mv "$envfile.tmp" "$envfile"
	say "MYSQL_DSN=$dsn (written to ${envfile#"$root"/})"
}

case ${1:-all} in
# ensure_server also where a server already answers: tests that crash and
# restart MariaDB (dataservice restart_test, loadgen faults) run a private
# mariadbd of their own.
all) ensure_go; ensure_cc; ensure_protoc; ensure_server; provision_mysql ;;
protoc) ensure_protoc ;;
mysql) provision_mysql ;;
stop) stop_private ;;
*) die "usage: $0 [all|protoc|mysql|stop]" ;;
esac
