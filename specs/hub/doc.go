// Package hub is the component hub: where an operation's hubRef
// (`[owner/]name[:tag]`, compiler.ParseHubRef) finds its component.
//
// Builtin is the hub embedded in the binary: the public catalogue under
// the default owner, written as ordinary v1.1 components in
// components/<owner>/<name>/<tag>.yaml — tensorboard (latest, which is
// single-run, multi-runs, path, s3-path, gcs-path, wasb-path), jupyterlab
// and jupyter-notebook (latest, tensorflow, scipy, pyspark, all-spark),
// vscode, streamlit, papermill, the image builders kaniko and dockerizer,
// and the notifiers slack and webhook that hooks run. `notebook` and
// `jupyter-lab` are other names for jupyter-notebook and jupyterlab.
//
// New puts private sources before it, searched in order: directories
// (Dir) and HTTP(S) servers (URL) with the same layout, an HTTP source
// listing its components in index.json (Index). ParseSources reads a
// comma-separated list of them, as PLEXUS_HUB holds.
//
// A Hub implements compiler.Hub. Each file is parsed and validated once,
// at its first use, and each lookup returns a fresh copy. A file that is
// not a valid component is an error naming its source and path
// (ComponentError), in lookups and in List alike, never skipped.
//
// CheckAccess and Hub.For apply the compiler's access policy to hubRefs:
// the public catalogue is for everyone, a private component for its
// owner, its owner's team, and whom the policy grants it.
package hub
