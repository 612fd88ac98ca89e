#!/bin/sh
# `npm run sql:check`: parses every statement of migrations/*.sql with a MySQL 8
# dialect parser (scripts/mysql8-parse: the TiDB parser plus the rules for what it
# accepts and MySQL 8 does not), since no MySQL 8 server runs where we test.
# Builds the checker with `go build` (modules from the Go module proxy, pinned by its
# go.sum) into a cache outside git, rebuilt only when its sources change.
#
#   scripts/sql-check.sh                 # check migrations/*.sql
#   scripts/sql-check.sh FILE.sql...     # check these scripts
#   scripts/sql-check.sh -z FILE         # NUL-separated statements (scripts/sql-check.mjs --from-log)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/scripts/mysql8-parse"
BIN="${IM_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/im-functions/bin}"
mkdir -p "$BIN"

stamp=$(cd "$SRC" && cat go.mod go.sum $(ls *.go | grep -v _test.go) | sha256sum | cut -c1-16)
if ! [ -x "$BIN/mysql8-parse" ] || [ "$(cat "$BIN/.mysql8-parse.version" 2>/dev/null)" != "$stamp" ]; then
  command -v go >/dev/null 2>&1 || { echo "sql-check: go is required to build scripts/mysql8-parse" >&2; exit 1; }
  echo "sql-check: building mysql8-parse into $BIN (first time: ~30 s)" >&2
  (cd "$SRC" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$BIN/mysql8-parse.$$" .)
  mv "$BIN/mysql8-parse.$$" "$BIN/mysql8-parse"
  echo "$stamp" >"$BIN/.mysql8-parse.version"
fi

if [ $# -eq 0 ]; then
  set -- "$ROOT"/migrations/*.sql
fi
exec "$BIN/mysql8-parse" "$@"
