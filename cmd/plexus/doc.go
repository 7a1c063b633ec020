// Command plexus is the Plexus command line: it checks Polyaxonfiles and
// prints their JSON Schema; later issues add compile, run, server, ops and
// hub. Commands are thin: they parse flags and call the packages that own
// the work (specs for parsing and validation).
package main
