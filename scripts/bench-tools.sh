#!/bin/sh
# Installs the load generator the gRPC benchmarks need — ghz — at a pinned version
# with `go install` (the Go module proxy is reachable where the internet is not), into
# a cache outside git. Reuses what is there; prints the path of the ghz binary.
#
#   scripts/bench-tools.sh            # ensure ghz, print its path
#   IM_TOOLS_BIN=/opt/bin scripts/bench-tools.sh
set -eu

# v0.121.0 is ghz's newest release; `@latest` resolves to an old v0.93.0 on the proxy,
# hence the explicit pin.
GHZ_VERSION=v0.121.0

BIN="${IM_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/im-functions/bin}"
mkdir -p "$BIN"

stamp="$BIN/.ghz.version"
if [ ! -x "$BIN/ghz" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$GHZ_VERSION" ]; then
  command -v go >/dev/null 2>&1 || { echo "bench-tools: go is required to install ghz $GHZ_VERSION" >&2; exit 1; }
  echo "bench-tools: installing ghz $GHZ_VERSION into $BIN (go install; takes a few minutes the first time)" >&2
  GOBIN="$BIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION" >&2
  echo "$GHZ_VERSION" >"$stamp"
fi
echo "$BIN/ghz"
