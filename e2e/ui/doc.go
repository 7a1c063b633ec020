// Package ui tests Plexus's web page in a real browser: Debian's
// chromium, driven headless by Playwright (playwright-core, browser.mjs),
// against a real `plexus server` on the local executor with tokens, after
// real pipelines, a sweep and a schedule ran on it. It checks the login,
// the runs list, a dag's node statuses, stopping a dag from its page and
// a sweep's plots, writes a screenshot of each page and checks each is
// not blank, and measures how long a 10,000-node dag takes to be drawn and
// a 100,000-node dag's summary to be shown (printed, not asserted).
//
// `make test-ui` installs what it needs (scripts/ui-deps.sh) and runs it;
// a plain `go test` without chromium or the npm packages skips it,
// saying so, unless PLEXUS_UI_REQUIRED=1 (set by make), which fails.
package ui
