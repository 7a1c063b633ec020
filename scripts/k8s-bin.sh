#!/usr/bin/env bash
# Builds the control plane the e2e tests run against -- etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok -- from the versions pinned
# in tools/go.mod, into a folder keyed by those versions, and prints the folder.
#
# Only missing binaries are built, so a warm run does nothing. A cold run
# takes about 15 minutes on 2 cores and ~3.2 GB of memory (the three
# Kubernetes binaries are linked in one `go build`).
#
# The folder is $PLEXUS_K8S_BIN when set, else
# .cache/k8s/<kubernetes>-<etcd>-<kwok>/ at the repository root; e2e/cluster
# looks in the same place.
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
mkdir -p "$dir"

# One builder at a time per folder: a second `make test` waits instead of
# building the same binaries again.
exec 9>"$dir/.lock"
flock 9

k8s_minor="${k8s#v}"
k8s_minor="${k8s_minor#*.}"
k8s_minor="${k8s_minor%%.*}"
k8s_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor"
kwok_ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$kwok"

# Builds into a scratch folder and renames, so an interrupted build never
# leaves a truncated binary that later runs would take for a good one.
tmp="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

build() { # name ldflags package...
	local name="$1" ldflags="$2"
	shift 2
	echo "k8s-bin: building $* into $dir" >&2
	(cd "$tools" && "$GO" build -buildvcs=false -ldflags "$ldflags" -o "$tmp/$name" "$@")
}

kube=()
for b in kube-apiserver kube-controller-manager kube-scheduler; do
	[[ -x "$dir/$b" ]] || kube+=("k8s.io/kubernetes/cmd/$b")
done
case ${#kube[@]} in
0) ;;
1) build "$(basename "${kube[0]}")" "$k8s_ldflags" "${kube[0]}" ;;
# With several packages, -o names a folder and each binary takes its
# package's name; one invocation shares the compilation of common packages.
*) build "" "$k8s_ldflags" "${kube[@]}" ;;
esac
[[ -x "$dir/etcd" ]] || build etcd "-s -w" go.etcd.io/etcd/server/v3
[[ -x "$dir/kwok" ]] || build kwok "$kwok_ldflags" sigs.k8s.io/kwok/cmd/kwok

for f in "$tmp"/*; do
	[[ -e "$f" ]] && mv -f "$f" "$dir/"
done
echo "$dir"
