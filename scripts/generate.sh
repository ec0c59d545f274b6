#!/usr/bin/env bash
# Regenerates the Go code of every .proto under protos/ with the pinned
# generators: protoc from Debian's protobuf-compiler, the Go plugins from the
# `tool` lines of tools/go.mod.
#
#   scripts/generate.sh [DIR]   DIR is a copy of protos/ to generate in
#                               instead (`make generate-check` uses one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$(cd "${1:-protos}" && pwd)
bash scripts/provision.sh protoc # installs protoc and its well-known types if missing
bin="$root/.dev/bin"
mkdir -p "$bin"
(cd tools && go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go &&
	go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc)
cd "$out"
mapfile -t files < <(find . -name '*.proto' -printf '%P\n' | sort)
protoc -I . \
	--plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out=. --go_opt=paths=source_relative \
	--plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" --go-grpc_out=. --go-grpc_opt=paths=source_relative \
	"${files[@]}"
