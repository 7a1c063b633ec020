#!/usr/bin/env bash
# What the web page's build and its browser test need, installed by the
# project: Debian's chromium (when missing), then the npm packages of the
# page (ui/web) and of the test (e2e/ui) from their lockfiles. A folder
# whose node_modules matches its lockfile is left as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v chromium >/dev/null 2>&1; then
	echo "ui-deps: installing Debian's chromium" >&2
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

for dir in ui/web e2e/ui; do
	cd "$root/$dir"
	stamp="node_modules/.package-lock.json"
	if [[ -f "$stamp" && "$stamp" -nt package-lock.json ]]; then
		continue
	fi
	npm ci --no-audit --no-fund --loglevel=error >&2
done
echo "ui-deps: $(chromium --version 2>/dev/null | head -1), node $(node --version)" >&2
