package ui

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Files are the page's files: index.html and what it loads.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded folder is there: go:embed says so
	}
	return sub
}
