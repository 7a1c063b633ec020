#!/usr/bin/env bash
# Builds the control plane the e2e tests run against -- etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok -- from the versions pinned
# in tools/go.mod, into a folder keyed by those versions, and prints the folder.
#
# Only missing binaries are built, so a warm run does nothing. A cold run
# builds all five in one `go build` (the packages they share are compiled
# once) and needs ~3.2 GB of memory.
#
# The folder is $PLEXUS_K8S_BIN when set, else
# .cache/k8s/<kubernetes>-<etcd>-<kwok>/ at the repository root; e2e/cluster
# looks in the same place. `k8s-bin.sh --dir` prints the folder and builds
# nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tools"
GO="${GO:-go}"

# Versions, read from the tools module (the single source of truth).
mod_version() {
	awk -v m="$1" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' "$tools/go.mod"
}
k8s="$(mod_version k8s.io/kubernetes)"
etcd="$(mod_version go.etcd.io/etcd/server/v3)"
kwok="$(mod_version sigs.k8s.io/kwok)"
if [[ -z "$k8s" || -z "$etcd" || -z "$kwok" ]]; then
	echo "k8s-bin: cannot read the versions from $tools/go.mod" >&2
	exit 1
fi

dir="${PLEXUS_K8S_BIN:-$root/.cache/k8s/$k8s-$etcd-$kwok}"
if [[ "${1:-}" == --dir ]]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$dir"

# One builder at a time per folder: a second `make test` waits instead of
# building the same binaries again.
exec 9>"$dir/.lock"
flock 9

k8s_minor="${k8s#v}"
k8s_minor="${k8s_minor#*.}"
k8s_minor="${k8s_minor%%.*}"
# Both version stamps go to every binary: -X of a package a binary does not
# link is ignored. -s -w strips at link.
#
# The compile flags are the Makefile's BUILDFLAGS (make build uses them too),
# and tools/go.mod selects the same versions as go.mod for every module both
# link (protobuf, grpc, client-go, etcd...): after `make demo` the packages
# bin/plexus shares with the control plane are in the build cache already.
buildflags="${BUILDFLAGS:--trimpath -gcflags=all=-dwarf=false}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor -X sigs.k8s.io/kwok/pkg/consts.Version=$kwok"

# Builds into a scratch folder and renames, so an interrupted build never
# leaves a truncated binary that later runs would take for a good one.
tmp="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The missing binaries, by the package that builds them. With several
# packages, -o names a folder and each binary takes its package's name
# (etcd's module root builds `server`); one invocation compiles the packages
# they share (client-go, etcd's client, grpc...) once.
declare -A pkg=(
	[kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
	[kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
	[kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
	[etcd]=go.etcd.io/etcd/server/v3
	[kwok]=sigs.k8s.io/kwok/cmd/kwok
)
missing=()
for b in "${!pkg[@]}"; do
	[[ -x "$dir/$b" ]] || missing+=("${pkg[$b]}")
done
if ((${#missing[@]} > 0)); then
	echo "k8s-bin: building ${missing[*]} into $dir" >&2
	mkdir -p "$tmp/out"
	(cd "$tools" && "$GO" build -buildvcs=false $buildflags -ldflags "$ldflags" -o "$tmp/out/" "${missing[@]}")
	[[ -e "$tmp/out/server" ]] && mv "$tmp/out/server" "$tmp/out/etcd"
	for f in "$tmp"/out/*; do
		mv -f "$f" "$dir/"
	done
fi
echo "$dir"
