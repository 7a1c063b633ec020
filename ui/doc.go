// Package ui holds Plexus's web page, built: the files of ui/dist
// (index.html, app.js, app.css), embedded in the binary, which
// `plexus server` serves at / (engine/api, page.go). Its sources are
// under ui/web (TypeScript, Preact, dagre, Chart.js, bundled by esbuild:
// `make ui`); the build is committed, so `go build` alone needs no npm.
package ui
