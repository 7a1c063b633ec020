package specs

import (
	corev1 "k8s.io/api/core/v1"
)

// Init is one init step of a run: at most one handler (artifacts, paths,
// git, dockerfile, file, tensorboard or a lineage/model/artifact ref), with
// an optional connection, mount path and container override. An entry with
// only a container is a custom init container.
type Init struct {
	Artifacts   *ArtifactsType    `json:"artifacts,omitempty"`
	Paths       ListOrRef[any]    `json:"paths,omitzero"`
	Git         *GitType          `json:"git,omitempty"`
	Dockerfile  *DockerfileType   `json:"dockerfile,omitempty"`
	File        *FileType         `json:"file,omitempty"`
	Tensorboard *TensorboardType  `json:"tensorboard,omitempty"`
	LineageRef  string            `json:"lineageRef,omitempty"`
	ModelRef    string            `json:"modelRef,omitempty"`
	ArtifactRef string            `json:"artifactRef,omitempty"`
	Connection  string            `json:"connection,omitempty"`
	Path        string            `json:"path,omitempty"`
	Container   *corev1.Container `json:"container,omitempty"`
}

// ArtifactsType selects files and directories from an artifacts store.
// Files and dirs are paths, or [from, to] pairs.
type ArtifactsType struct {
	Files   ListOrRef[any] `json:"files,omitzero"`
	Dirs    ListOrRef[any] `json:"dirs,omitzero"`
	Workers *IntOrRef      `json:"workers,omitempty"`
}

// GitType is a repository to clone.
type GitType struct {
	URL      string            `json:"url,omitempty"`
	Revision string            `json:"revision,omitempty"`
	Flags    ListOrRef[string] `json:"flags,omitzero"`
}

// DockerfileType generates a Dockerfile.
type DockerfileType struct {
	Image       string            `json:"image" plexus:"required"`
	Env         map[string]any    `json:"env,omitempty"`
	Path        ListOrRef[string] `json:"path,omitzero"`
	Copy        ListOrRef[any]    `json:"copy,omitzero"`
	PostRunCopy ListOrRef[any]    `json:"postRunCopy,omitzero"`
	Run         ListOrRef[string] `json:"run,omitzero"`
	LangEnv     string            `json:"langEnv,omitempty"`
	UID         *IntOrRef         `json:"uid,omitempty"`
	GID         *IntOrRef         `json:"gid,omitempty"`
	Username    string            `json:"username,omitempty"`
	Filename    string            `json:"filename,omitempty"`
	Workdir     string            `json:"workdir,omitempty"`
	WorkdirPath string            `json:"workdirPath,omitempty"`
	Shell       string            `json:"shell,omitempty"`
}

// FileType writes a file (its content is a template).
type FileType struct {
	Content  string `json:"content" plexus:"required"`
	Filename string `json:"filename,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Chmod    string `json:"chmod,omitempty"`
}

// TensorboardType prepares a tensorboard log directory over several runs.
type TensorboardType struct {
	Port       *IntOrRef         `json:"port,omitempty"`
	UUIDs      ListOrRef[string] `json:"uuids,omitzero"`
	UseNames   *bool             `json:"useNames,omitempty"`
	PathPrefix string            `json:"pathPrefix,omitempty"`
	Plugins    ListOrRef[string] `json:"plugins,omitzero"`
}

func (in *Init) validate(p Path) ErrorList {
	var errs ErrorList
	var set []string
	for _, h := range []struct {
		name string
		on   bool
	}{
		{"artifacts", in.Artifacts != nil}, {"paths", !in.Paths.IsZero()}, {"git", in.Git != nil},
		{"dockerfile", in.Dockerfile != nil}, {"file", in.File != nil}, {"tensorboard", in.Tensorboard != nil},
		{"lineageRef", in.LineageRef != ""}, {"modelRef", in.ModelRef != ""}, {"artifactRef", in.ArtifactRef != ""},
	} {
		if h.on {
			set = append(set, h.name)
		}
	}
	if len(set) > 1 {
		errs = append(errs, Invalidf(p.Child(set[1]), nil, "an init entry takes one handler, got %s and %s", set[0], set[1]))
	}
	if len(set) == 0 && in.Connection == "" && in.Container == nil {
		errs = append(errs, Required(p, "an init entry needs a handler (artifacts, paths, git, dockerfile, file, tensorboard, lineageRef, modelRef, artifactRef), a connection or a container"))
	}
	if in.Git != nil && in.Git.URL == "" && in.Connection == "" {
		errs = append(errs, Required(p.Child("git").Child("url"), "a git init needs a url or a connection"))
	}
	if in.Dockerfile != nil && in.Dockerfile.Image == "" {
		errs = append(errs, Required(p.Child("dockerfile").Child("image"), "a dockerfile init needs an image"))
	}
	if in.File != nil && in.File.Content == "" {
		errs = append(errs, Required(p.Child("file").Child("content"), "a file init needs content"))
	}
	errs = append(errs, validatePathPairs(p.Child("paths"), in.Paths)...)
	if in.Artifacts != nil {
		errs = append(errs, validatePathPairs(p.Child("artifacts").Child("files"), in.Artifacts.Files)...)
		errs = append(errs, validatePathPairs(p.Child("artifacts").Child("dirs"), in.Artifacts.Dirs)...)
		errs = append(errs, nonNegative(p.Child("artifacts").Child("workers"), in.Artifacts.Workers)...)
	}
	if in.Dockerfile != nil {
		errs = append(errs, validatePathPairs(p.Child("dockerfile").Child("copy"), in.Dockerfile.Copy)...)
		errs = append(errs, validatePathPairs(p.Child("dockerfile").Child("postRunCopy"), in.Dockerfile.PostRunCopy)...)
	}
	if in.Container != nil {
		errs = append(errs, validateContainer(p.Child("container"), in.Container, false)...)
	}
	return errs
}

// validatePathPairs checks a list whose items are a path or [from, to].
func validatePathPairs(p Path, l ListOrRef[any]) ErrorList {
	var errs ErrorList
	for i, it := range l.Items {
		switch v := it.(type) {
		case string:
		case []any:
			ok := len(v) == 2
			for _, x := range v {
				if _, isStr := x.(string); !isStr {
					ok = false
				}
			}
			if !ok {
				errs = append(errs, Invalid(p.Index(i), v, "expected a path or a [from, to] pair of paths"))
			}
		default:
			errs = append(errs, Invalid(p.Index(i), v, "expected a path or a [from, to] pair of paths"))
		}
	}
	return errs
}
