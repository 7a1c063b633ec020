package cluster

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"sort"
)

// stageFiles are the project's kwok stages: how fake nodes come up and how
// pods on them run and end (see the package documentation).
//
//go:embed stages/*.yaml
var stageFiles embed.FS

// Annotations on a pod that choose what kwok does with it.
const (
	AnnotationFail           = "plexus.io/kwok-fail"             // "true": end Failed, exit code 1
	AnnotationExitCode       = "plexus.io/kwok-exit-code"        // end with this exit code ("0" succeeds)
	AnnotationDelay          = "plexus.io/kwok-delay"            // Go duration spent Running before ending
	AnnotationMessage        = "plexus.io/kwok-message"          // each container's state.terminated.message
	AnnotationImagePullError = "plexus.io/kwok-image-pull-error" // "true": Waiting ErrImagePull, then ImagePullBackOff
	AnnotationLogs           = "plexus.io/kwok-logs"             // each container's log, its lines ("one\ntwo"); else PodLog

	// AnnotationLogsReady is set by the cluster once kwok serves the log a
	// pod asked for with AnnotationLogs; the pod does not start before.
	AnnotationLogsReady = "plexus.io/kwok-logs-ready"
)

// UnpullableImage is an image whose pods never start, as with
// AnnotationImagePullError (any image starting with it does).
const UnpullableImage = "plexus.io/unpullable"

// NodeAnnotation marks the nodes kwok manages.
const NodeAnnotation = "kwok.x-k8s.io/node"

// writeStages writes every embedded stage into one multi-document YAML file
// for kwok's --config.
func writeStages(path string) error {
	names, err := fs.Glob(stageFiles, "stages/*.yaml")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, name := range names {
		data, err := stageFiles.ReadFile(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(&buf, "---\n# %s\n", name)
		buf.Write(bytes.TrimPrefix(data, []byte("---\n")))
		if !bytes.HasSuffix(data, []byte("\n")) {
			buf.WriteByte('\n')
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cluster: writing the kwok stages: %w", err)
	}
	return nil
}
