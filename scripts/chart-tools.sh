#!/bin/sh
# Installs the tool `npm run chart:check` needs — helm — at a pinned version with
# `go install` (the Go module proxy is reachable where the internet is not), into a
# cache outside git. Reuses what is there; prints the bin directory.
#
# kubeconform is not needed: its schemas live on the internet, so the rendered
# manifests are validated with the npm models instead (scripts/chart-check.mjs).
# `scripts/chart-tools.sh kubeconform` still installs it, pinned, for who wants it.
#
#   scripts/chart-tools.sh            # ensure helm, print the bin dir
#   IM_TOOLS_BIN=/opt/bin scripts/chart-tools.sh
set -eu

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0

BIN="${IM_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/im-functions/bin}"
mkdir -p "$BIN"

ensure() {
  name=$1 module=$2 version=$3
  stamp="$BIN/.$name.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || { echo "chart-tools: go is required to install $name $version" >&2; exit 1; }
  echo "chart-tools: installing $name $version into $BIN (go install; takes a few minutes the first time)" >&2
  GOBIN="$BIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install "$module@$version" >&2
  echo "$version" >"$stamp"
}

ensure helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
if [ "${1:-}" = kubeconform ]; then
  ensure kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
fi
echo "$BIN"
