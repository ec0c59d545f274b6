# Sourced by the scripts that build a server the tests need from the Go
# module proxy into .dev/bin (zincsearch.sh, versitygw.sh).

# build_once OUT: waits for the lock of OUT (a second caller waits for the
# first one's build: `make test` starts the builds in the background and
# the tests run the scripts too), and exits when OUT is already built. The
# lock stays held (fd 9) until the script ends.
build_once() {
	mkdir -p "$(dirname "$1")"
	exec 9>"$1.lock"
	flock 9
	if [ -x "$1" ]; then
		exit 0
	fi
}

# module_dir MODULE VERSION: prints the directory of the module's source,
# downloaded by `go mod download` outside this repository's go.work, or
# fails.
module_dir() {
	local src
	src=$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "$1@$2" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
		echo "$(basename "$0"): go mod download of $1 $2 failed" >&2
		return 1
	fi
	echo "$src"
}
