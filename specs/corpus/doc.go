// Package corpus owns the layout of a Polyaxonfile corpus with verdicts:
// a folder of Polyaxonfiles, each with what checking and compiling it must
// give. Tests of specs, the compiler and the CLI read Plexus's own corpus
// (testdata/polyaxonfiles at the repository root) through it, and `make
// conformance CORPUS=DIR` reads any other folder laid out the same way.
//
// A folder states its verdicts in one of two ways:
//
//   - In each file's leading comment lines (Plexus's own corpus):
//
//     # exercises: a dag whose operations use every trigger rule
//     # expect: accept | reject | needs-params
//     # params: loss=MeanSquaredError flag=true
//     # error: run.operations[0]: A -> B -> A
//     # warning: run.volumes[1].configMap.configName
//     # compile: reject: undefined variable "future"
//
//     `needs-params` is rejected without the `params` line and accepted
//     with it; `params` are also those the file is compiled with. Each
//     `error` names a path some error must carry (`(document)` for an
//     error of the whole document, such as a YAML syntax error), and
//     optionally (after ": ") a substring of the errors. `warning` lines are the exact set of
//     paths check warns about. `compile` is `accept` (the default for a
//     file check accepts) or `reject: SUBSTRING`.
//
//   - In an INDEX.md table (`| file | exercises | check | ... |`), as the
//     shared conformance corpus does: the check column starts with accept
//     or reject; a reject that is accepted with `-P name=value` flags is
//     needs-params.
//
// Files of subfolders (such as refs/, the components that pathRefs and
// urlRefs of the corpus name) are not cases.
package corpus
