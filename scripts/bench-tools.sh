#!/bin/sh
# Installs the load generators the benchmarks need and prints the path of one:
#  - ghz (gRPC benchmarks, the default) at a pinned version with `go install` (the Go
#    module proxy is reachable where the internet is not), into a cache outside git;
#  - wrk (the HTTP benchmark) from the distribution's package (Debian's `wrk`), as a C
#    load generator takes a fraction of the CPU autocannon (Node) needs on the 2 cores
#    it shares with the server under test.
# Reuses what is there.
#
#   scripts/bench-tools.sh            # ensure ghz, print its path
#   scripts/bench-tools.sh wrk        # ensure wrk, print its path
#   IM_TOOLS_BIN=/opt/bin scripts/bench-tools.sh
set -eu

if [ "${1:-ghz}" = wrk ]; then
  if ! command -v wrk >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "bench-tools: install wrk (4.x) with your package manager" >&2; exit 1; }
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "bench-tools: installing wrk (apt-get)" >&2
    # An old or empty package list does not know wrk yet: update once, then install.
    $SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || { $SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq wrk >&2; }
  fi
  command -v wrk
  exit 0
fi

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
