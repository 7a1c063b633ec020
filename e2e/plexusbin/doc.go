// Package plexusbin builds the plexus binary that end-to-end tests run as a
// user would, with the compile flags of `make build` (BUILDFLAGS, exported
// by the Makefile), so that the packages `make build` or `make demo`
// compiled are reused and only the link is left to do.
package plexusbin
