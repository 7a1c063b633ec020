#!/usr/bin/env bash
# Builds Argo Workflows' workflow-controller at the version pinned in
# tools/argo/go.mod, for the side-by-side benchmark (e2e/bench/peer), into
# .cache/argo/<version>/ (or $PLEXUS_ARGO_BIN), with the CRDs of that
# version beside it (crds/*.yaml, from the module's manifests/base/crds/
# minimal). Prints the folder. A warm run builds nothing; a cold one takes
# ~9 minutes on 2 cores. `argo-bin.sh --dir` prints the folder only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tools/argo"
GO="${GO:-go}"
mod=github.com/argoproj/argo-workflows/v3
version="$(awk -v m="$mod" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' "$tools/go.mod")"
if [[ -z "$version" ]]; then
	echo "argo-bin: cannot read the version of $mod from $tools/go.mod" >&2
	exit 1
fi
dir="${PLEXUS_ARGO_BIN:-$root/.cache/argo/$version}"
if [[ "${1:-}" == --dir ]]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

buildflags="${BUILDFLAGS:--trimpath -gcflags=all=-dwarf=false}"
if [[ ! -x "$dir/workflow-controller" ]]; then
	echo "argo-bin: building $mod/cmd/workflow-controller@$version into $dir" >&2
	tmp="$(mktemp -d "$dir/.build.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tools" && "$GO" build -buildvcs=false $buildflags -ldflags "-s -w" -o "$tmp/workflow-controller" "$mod/cmd/workflow-controller")
	mv -f "$tmp/workflow-controller" "$dir/"
fi
if [[ ! -d "$dir/crds" ]]; then
	src="$(cd "$tools" && "$GO" list -m -f '{{.Dir}}' "$mod")/manifests/base/crds/minimal"
	mkdir -p "$dir/crds.tmp"
	cp "$src"/argoproj.io_*.yaml "$dir/crds.tmp/"
	chmod u+w "$dir/crds.tmp"/*.yaml
	mv "$dir/crds.tmp" "$dir/crds"
fi
echo "$dir"
