package compiler

import (
	"fmt"
	"os"
	"path"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/specs"
)

// StageConnections turns toInit params into init entries and checks the
// connections a run names.
const StageConnections Stage = "connections"

// ConnectionSpec is one connection of the catalogue: where data, code or
// a registry is, and the Kubernetes secret, config map and environment that
// give access to it.
type ConnectionSpec struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Schema is what templates see as connections[<name>]: a bucket
	// ({bucket}), a claim ({volumeClaim, mountPath, readOnly}), a host path
	// ({hostPath, mountPath, readOnly}), a host ({url, insecure}), a git
	// repository ({url, revision, flags}), or anything for custom kinds.
	Schema      map[string]any    `json:"schema,omitempty"`
	Secret      *K8sResource      `json:"secret,omitempty"`
	ConfigMap   *K8sResource      `json:"configMap,omitempty"`
	Env         []corev1.EnvVar   `json:"env,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// K8sResource is a secret or config map a connection uses: mounted at
// MountPath, or, without one, exposed as environment variables.
type K8sResource struct {
	Name        string   `json:"name"`
	MountPath   string   `json:"mountPath,omitempty"`
	Items       []string `json:"items,omitempty"`
	DefaultMode *int32   `json:"defaultMode,omitempty"`
}

// Catalogue holds the connections runs may name, by name.
type Catalogue map[string]ConnectionSpec

// ReadConnections reads a catalogue file: `connections: [...]`.
func ReadConnections(file string) (Catalogue, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading connections: %w", err)
	}
	var doc struct {
		Connections []ConnectionSpec `json:"connections"`
	}
	if err := unmarshalStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("connections %s: %w", file, err)
	}
	cat := Catalogue{}
	for i, c := range doc.Connections {
		if c.Name == "" {
			return nil, fmt.Errorf("connections %s: connections[%d] has no name", file, i)
		}
		if _, dup := cat[c.Name]; dup {
			return nil, fmt.Errorf("connections %s: %q is defined twice", file, c.Name)
		}
		cat[c.Name] = c
	}
	return cat, nil
}

// schemas returns what templates see: each connection's schema.
func (c Catalogue) schemas() map[string]Connection {
	out := make(map[string]Connection, len(c))
	for name, spec := range c {
		s := Connection{}
		for k, v := range spec.Schema {
			s[k] = v
		}
		out[name] = s
	}
	return out
}

// initsFromParams builds the init entries that toInit params ask for
// (§8.4 of the spec): a git, dockerfile or artifacts value becomes that
// init; a path with a connection becomes a paths init; another value with a
// connection initialises the connection. Anything else is an error.
func initsFromParams(params Params) ([]specs.Init, specs.ErrorList) {
	var inits []specs.Init
	var errs specs.ErrorList
	for _, p := range params {
		if !p.ToInit || p.Value == nil {
			continue
		}
		pp := specs.Path("params").Key(p.Name)
		in, err := initFor(p)
		if err != nil {
			errs = append(errs, specs.Invalidf(pp.Child("toInit"), true, "%v", err))
			continue
		}
		inits = append(inits, in)
	}
	return inits, errs
}

func initFor(p Param) (specs.Init, error) {
	in := specs.Init{Connection: p.Connection}
	m, _ := p.Value.(map[string]any)
	switch {
	case p.Type == specs.IOTypeGit:
		g := &specs.GitType{}
		g.URL, _ = m["url"].(string)
		g.Revision, _ = m["revision"].(string)
		if flags, ok := m["flags"].([]any); ok {
			for _, f := range flags {
				if s, ok := f.(string); ok {
					g.Flags.Items = append(g.Flags.Items, s)
				}
			}
		}
		in.Git = g
	case p.Type == specs.IOTypeDockerfile:
		d := &specs.DockerfileType{}
		d.Image, _ = m["image"].(string)
		in.Dockerfile = d
	case p.Type == specs.IOTypeArtifacts:
		a := &specs.ArtifactsType{}
		a.Files.Items, _ = m["files"].([]any)
		a.Dirs.Items, _ = m["dirs"].([]any)
		in.Artifacts = a
	case p.Type == specs.IOTypePath && p.Connection != "":
		values, ok := p.Value.([]any)
		if !ok {
			values = []any{p.Value}
		}
		in.Paths.Items = values
	case p.Connection != "":
		// The connection alone (a git connection is cloned, ...).
	default:
		return specs.Init{}, fmt.Errorf("a %s param without a connection cannot become an init container; give it a connection, or make it git, dockerfile or artifacts", orUntyped(p.Type))
	}
	return in, nil
}

func orUntyped(t specs.IOType) string {
	if t == "" {
		return "untyped"
	}
	return string(t)
}

// connectionMounts returns what a container gets from the connections it
// names: volumes (for the pod), mounts, env and envFrom, and pod
// annotations. Unknown names are errors at their path.
func connectionMounts(cat Catalogue, names []string, p specs.Path) (vols []corev1.Volume, mounts []corev1.VolumeMount, env []corev1.EnvVar, envFrom []corev1.EnvFromSource, ann map[string]string, errs specs.ErrorList) {
	ann = map[string]string{}
	for i, name := range names {
		spec, ok := cat[name]
		if !ok {
			errs = append(errs, specs.Invalidf(p.Index(i), name, "unknown connection %q%s", name, suggestConnection(name, cat)))
			continue
		}
		if s := spec.Secret; s != nil {
			if s.MountPath != "" {
				vol := corev1.Volume{Name: volumeName("secret", name), VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
					SecretName: s.Name, Items: keyItems(s.Items), DefaultMode: s.DefaultMode}}}
				vols = append(vols, vol)
				mounts = append(mounts, corev1.VolumeMount{Name: vol.Name, MountPath: s.MountPath, ReadOnly: true})
			} else {
				envFrom = append(envFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: s.Name}}})
			}
		}
		if cm := spec.ConfigMap; cm != nil {
			if cm.MountPath != "" {
				vol := corev1.Volume{Name: volumeName("config", name), VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}, Items: keyItems(cm.Items), DefaultMode: cm.DefaultMode}}}
				vols = append(vols, vol)
				mounts = append(mounts, corev1.VolumeMount{Name: vol.Name, MountPath: cm.MountPath, ReadOnly: true})
			} else {
				envFrom = append(envFrom, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}})
			}
		}
		mountPath, _ := spec.Schema["mountPath"].(string)
		readOnly, _ := spec.Schema["readOnly"].(bool)
		switch spec.Kind {
		case "volume_claim":
			claim, _ := spec.Schema["volumeClaim"].(string)
			vol := corev1.Volume{Name: volumeName("claim", name), VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: readOnly}}}
			vols = append(vols, vol)
			mounts = append(mounts, corev1.VolumeMount{Name: vol.Name, MountPath: mountPath, ReadOnly: readOnly})
		case "host_path":
			hp, _ := spec.Schema["hostPath"].(string)
			vol := corev1.Volume{Name: volumeName("host", name), VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hp}}}
			vols = append(vols, vol)
			mounts = append(mounts, corev1.VolumeMount{Name: vol.Name, MountPath: mountPath, ReadOnly: readOnly})
		}
		env = append(env, spec.Env...)
		for k, v := range spec.Annotations {
			ann[k] = v
		}
	}
	return vols, mounts, env, envFrom, ann, errs
}

func volumeName(kind, conn string) string { return "plexus-" + kind + "-" + conn }

func keyItems(keys []string) []corev1.KeyToPath {
	var out []corev1.KeyToPath
	for _, k := range keys {
		out = append(out, corev1.KeyToPath{Key: k, Path: path.Base(k)})
	}
	return out
}

func suggestConnection(name string, cat Catalogue) string {
	names := make([]string, 0, len(cat))
	for n := range cat {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return " (no connections are defined)"
	}
	if len(names) > 8 {
		names = append(names[:8], "...")
	}
	return fmt.Sprintf(" (defined: %v)", names)
}
