#!/usr/bin/env bash
# Builds the web packages: installs Node.js and npm with apt-get when missing
# (Node >= 18), then per package `npm ci` (when package-lock.json changed
# since the last install) and `npm run build` (when a source is newer than
# the last build). Idempotent; a run with nothing changed takes about a
# second (starting node to check its version). `make test` runs it in the background (scripts/test.sh) and the
# Go tests of tools/sdktest wait for it here (a file lock) instead of
# building a second time.
#
# Packages, built in this order: web/sdk (@privateim/sdk), web/app (the web
# app, which bundles the SDK: rebuilt when the SDK's build is newer than its
# own; dist/ is embedded by the webgateway, docs/web.md).
#
# Then, under .dev/chromium.lock (the web build's lock released, so the
# SDK's tests need not wait for it), Debian's chromium for the browser tests
# of web/internal/browsertest, with apt-get when missing (about 70 s and
# 100 MB on a fresh machine, docs/benchmarks.md "Cold start"). WEB_NO_CHROMIUM=1
# skips it (make run needs no browser).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
packages=(web/sdk web/app)

say() { echo "web.sh: $*"; }
die() {
	echo "web.sh: $*" >&2
	exit 1
}

# Held for the whole run: a second caller (the tests) waits for this build.
mkdir -p .dev
exec 9>.dev/web.lock
flock 9

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: install nodejs (>= 18) and npm yourself"
	sudo_cmd=(sudo)
fi

node_ok() {
	command -v node >/dev/null && command -v npm >/dev/null || return 1
	local major
	major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
	[ "$major" -ge 18 ]
}
if ! node_ok; then
	command -v apt-get >/dev/null || die "no apt-get: install nodejs (>= 18) and npm yourself"
	say "apt-get install nodejs npm"
	"${sudo_cmd[@]}" apt-get update -qq
	# A machine with NodeSource's nodejs has npm inside it: only add what is missing.
	missing=(nodejs)
	command -v npm >/dev/null || missing+=(npm)
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	node_ok || die "node >= 18 and npm are still missing after apt-get (node: $(node --version 2>/dev/null || echo none))"
fi

# newer DIR STAMP PATHS...: whether any file under PATHS is newer than STAMP
# (or STAMP is missing).
newer() {
	local dir=$1 stamp=$2
	shift 2
	[ -f "$dir/$stamp" ] || return 0
	(cd "$dir" && [ -n "$(find "$@" -newer "$stamp" -type f -print -quit 2>/dev/null)" ])
}

for p in "${packages[@]}"; do
	if newer "$p" node_modules/.package-lock.json package-lock.json package.json; then
		say "$p: npm ci"
		(cd "$p" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
	fi
	# The app is rebuilt when the SDK's build it bundles is newer than its own.
	if newer "$p" dist/.built src test integration tsconfig.json package-lock.json index.html build.mjs ||
		{ [ "$p" = web/app ] && [ web/sdk/dist/.built -nt web/app/dist/.built ]; }; then
		say "$p: build"
		(cd "$p" && rm -rf dist && npm run --silent build && touch dist/.built)
	fi
done

# The web build is done: whoever waits for it (the SDK's tests) may go on.
flock -u 9

if [ "${WEB_NO_CHROMIUM:-}" != 1 ]; then
	exec 8>.dev/chromium.lock
	flock 8
	if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
		command -v apt-get >/dev/null || die "no chromium and no apt-get: install chromium for the browser tests yourself"
		say "apt-get install chromium (the browser tests' headless browser)"
		"${sudo_cmd[@]}" apt-get update -qq
		"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
		command -v chromium >/dev/null || die "chromium is still missing after apt-get install chromium"
	fi
fi
