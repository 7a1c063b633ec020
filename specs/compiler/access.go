package compiler

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/plexus-ml/plexus/specs"
)

// StageAccess checks what a run asks for against the access policy.
const StageAccess Stage = "access"

// Policy says who may use what. A caller's allowances are the union of
// every rule that names them (by user or team); a policy with no rules
// allows nothing, and no policy at all (nil) allows everything.
type Policy struct {
	Rules []Rule `json:"rules"`
}

// Rule grants some users or teams the use of resources. In each list, "*"
// means any.
type Rule struct {
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`

	Projects    []string `json:"projects,omitempty"`
	Namespaces  []string `json:"namespaces,omitempty"`
	Connections []string `json:"connections,omitempty"`
	Secrets     []string `json:"secrets,omitempty"`
	ConfigMaps  []string `json:"configMaps,omitempty"`
	// Volumes are the volume sources allowed (emptyDir, configMap, secret,
	// persistentVolumeClaim, hostPath, nfs, ...).
	Volumes []string `json:"volumes,omitempty"`
	// Claims are the persistent volume claims allowed.
	Claims []string `json:"claims,omitempty"`
	// NodeSelectors are the values allowed for each node label.
	NodeSelectors map[string][]string `json:"nodeSelectors,omitempty"`
	// Resources cap what one run may request or limit, summed over its
	// containers: `nvidia.com/gpu: 4`, `google.com/tpu: 0`, `cpu: 32`. A
	// resource not listed is not capped, except extended resources
	// (names with a domain, such as nvidia.com/gpu), which need a cap.
	Resources map[corev1.ResourceName]resource.Quantity `json:"resources,omitempty"`
}

// Caller is who compiles: a user, their teams, and the project they
// compile in.
type Caller struct {
	User    string
	Teams   []string
	Project string
}

// ReadPolicy reads a policy file (YAML or JSON).
func ReadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the access policy: %w", err)
	}
	var p Policy
	if err := unmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("access policy %s: %w", path, err)
	}
	return &p, nil
}

// allowances is the union of the rules that apply to a caller.
type allowances struct {
	sets      map[string][]string
	selectors map[string][]string
	resources map[corev1.ResourceName]resource.Quantity
}

func (p *Policy) allowances(c Caller) allowances {
	a := allowances{sets: map[string][]string{}, selectors: map[string][]string{}, resources: map[corev1.ResourceName]resource.Quantity{}}
	for _, r := range p.Rules {
		if !matches(r.Users, c.User) && !slices.ContainsFunc(c.Teams, func(t string) bool { return matches(r.Teams, t) }) {
			continue
		}
		for name, list := range map[string][]string{"projects": r.Projects, "namespaces": r.Namespaces, "connections": r.Connections,
			"secrets": r.Secrets, "configMaps": r.ConfigMaps, "volumes": r.Volumes, "claims": r.Claims} {
			a.sets[name] = append(a.sets[name], list...)
		}
		for k, vs := range r.NodeSelectors {
			a.selectors[k] = append(a.selectors[k], vs...)
		}
		for k, q := range r.Resources {
			if cur, ok := a.resources[k]; !ok || q.Cmp(cur) > 0 {
				a.resources[k] = q
			}
		}
	}
	return a
}

func matches(list []string, v string) bool {
	return v != "" && (slices.Contains(list, v) || slices.Contains(list, "*"))
}

func (a allowances) allows(set, v string) bool {
	return slices.Contains(a.sets[set], v) || slices.Contains(a.sets[set], "*")
}

// CheckAccess checks a compiled run against the policy: the project and
// namespace, every connection, secret, config map, volume and claim it
// uses, its node selectors, and the resources it asks for. Every violation
// is reported with its path. A nil policy allows everything.
func CheckAccess(p *Policy, caller Caller, ri RunInfo, c *Compiled) error {
	if p == nil {
		return nil
	}
	a := p.allowances(caller)
	var errs specs.ErrorList
	deny := func(path specs.Path, what, name string) {
		who := caller.User
		if who == "" {
			who = "the caller"
		}
		errs = append(errs, &specs.FieldError{Path: path, Type: specs.ErrForbidden, BadValue: name,
			Detail: fmt.Sprintf("%s may not use %s %q", who, what, name)})
	}
	if !a.allows("projects", caller.Project) {
		deny("", "project", caller.Project)
	}
	if ri.Namespace != "" && !a.allows("namespaces", ri.Namespace) {
		deny("", "namespace", ri.Namespace)
	}
	for _, rp := range replicasOf(c.Component.Run) {
		checkReplica(rp.path, rp.r, a, deny, &errs)
	}
	return stageError(StageAccess, errs)
}

type replicaAt struct {
	path specs.Path
	r    *specs.Replica
}

// replicasOf lists the pods a run is made of, with their paths.
func replicasOf(run specs.Run) []replicaAt {
	switch r := run.(type) {
	case *specs.Job:
		return []replicaAt{{"run", &r.Replica}}
	case *specs.Service:
		return []replicaAt{{"run", &r.Replica}}
	case *specs.Dask:
		return []replicaAt{{"run", &r.Replica}}
	}
	var out []replicaAt
	if run == nil {
		return nil
	}
	forEachRoleNamed(reflect.ValueOf(run).Elem(), "run", func(p specs.Path, kr *specs.KFReplica) {
		out = append(out, replicaAt{p, &kr.Replica})
	})
	return out
}

func checkReplica(p specs.Path, r *specs.Replica, a allowances, deny func(specs.Path, string, string), errs *specs.ErrorList) {
	for i, name := range r.Connections {
		if !a.allows("connections", name) {
			deny(p.Child("connections").Index(i), "connection", name)
		}
	}
	for i, in := range r.Init {
		if in.Connection != "" && !a.allows("connections", in.Connection) {
			deny(p.Child("init").Index(i).Child("connection"), "connection", in.Connection)
		}
	}
	for i, v := range r.Volumes {
		vp := p.Child("volumes").Index(i)
		kind := volumeKind(v.VolumeSource)
		if !a.allows("volumes", kind) {
			deny(vp, "volumes of kind", kind)
		}
		switch {
		case v.Secret != nil && !a.allows("secrets", v.Secret.SecretName):
			deny(vp.Child("secret").Child("secretName"), "secret", v.Secret.SecretName)
		case v.ConfigMap != nil && !a.allows("configMaps", v.ConfigMap.Name):
			deny(vp.Child("configMap").Child("name"), "config map", v.ConfigMap.Name)
		case v.PersistentVolumeClaim != nil && !a.allows("claims", v.PersistentVolumeClaim.ClaimName):
			deny(vp.Child("persistentVolumeClaim").Child("claimName"), "volume claim", v.PersistentVolumeClaim.ClaimName)
		}
	}
	if env := r.Environment; env != nil {
		for _, k := range sortedNames(env.NodeSelector) {
			v := env.NodeSelector[k]
			if allowed := a.selectors[k]; !slices.Contains(allowed, v) && !slices.Contains(allowed, "*") {
				deny(p.Child("environment").Child("nodeSelector").Key(k), "node selector", k+"="+v)
			}
		}
	}
	containers := []struct {
		path specs.Path
		c    *corev1.Container
	}{}
	if r.Container != nil {
		containers = append(containers, struct {
			path specs.Path
			c    *corev1.Container
		}{p.Child("container"), r.Container})
	}
	for i := range r.Sidecars {
		containers = append(containers, struct {
			path specs.Path
			c    *corev1.Container
		}{p.Child("sidecars").Index(i), &r.Sidecars[i]})
	}
	for i := range r.Init {
		if r.Init[i].Container != nil {
			containers = append(containers, struct {
				path specs.Path
				c    *corev1.Container
			}{p.Child("init").Index(i).Child("container"), r.Init[i].Container})
		}
	}
	totals := map[corev1.ResourceName]resource.Quantity{}
	for _, c := range containers {
		for i, ef := range c.c.EnvFrom {
			ep := c.path.Child("envFrom").Index(i)
			if ef.SecretRef != nil && !a.allows("secrets", ef.SecretRef.Name) {
				deny(ep.Child("secretRef").Child("name"), "secret", ef.SecretRef.Name)
			}
			if ef.ConfigMapRef != nil && !a.allows("configMaps", ef.ConfigMapRef.Name) {
				deny(ep.Child("configMapRef").Child("name"), "config map", ef.ConfigMapRef.Name)
			}
		}
		for i, e := range c.c.Env {
			if e.ValueFrom == nil {
				continue
			}
			ep := c.path.Child("env").Index(i).Child("valueFrom")
			if s := e.ValueFrom.SecretKeyRef; s != nil && !a.allows("secrets", s.Name) {
				deny(ep.Child("secretKeyRef").Child("name"), "secret", s.Name)
			}
			if cm := e.ValueFrom.ConfigMapKeyRef; cm != nil && !a.allows("configMaps", cm.Name) {
				deny(ep.Child("configMapKeyRef").Child("name"), "config map", cm.Name)
			}
		}
		// A container asks for the larger of its request and its limit.
		for _, name := range resourceNames(c.c.Resources) {
			q := c.c.Resources.Limits[name]
			if req, ok := c.c.Resources.Requests[name]; ok && req.Cmp(q) > 0 {
				q = req
			}
			t := totals[name]
			t.Add(q)
			totals[name] = t
		}
	}
	for _, name := range sortedNames(totals) {
		total := totals[corev1.ResourceName(name)]
		limit, capped := a.resources[corev1.ResourceName(name)]
		rp := p.Child("container").Child("resources")
		switch {
		case capped && total.Cmp(limit) > 0:
			*errs = append(*errs, &specs.FieldError{Path: rp, Type: specs.ErrForbidden, BadValue: total.String(),
				Detail: fmt.Sprintf("the run asks for %s %s; at most %s is allowed", total.String(), name, limit.String())})
		case !capped && isExtended(corev1.ResourceName(name)) && !total.IsZero():
			*errs = append(*errs, &specs.FieldError{Path: rp, Type: specs.ErrForbidden, BadValue: total.String(),
				Detail: fmt.Sprintf("the run asks for %s %s, which the policy does not grant", total.String(), name)})
		}
	}
}

// isExtended: resources with a domain other than Kubernetes' own, such as
// nvidia.com/gpu.
func isExtended(n corev1.ResourceName) bool {
	domain, _, ok := strings.Cut(string(n), "/")
	return ok && !strings.HasSuffix(domain, "kubernetes.io")
}

func resourceNames(r corev1.ResourceRequirements) []corev1.ResourceName {
	seen := map[corev1.ResourceName]bool{}
	for n := range r.Limits {
		seen[n] = true
	}
	for n := range r.Requests {
		seen[n] = true
	}
	out := make([]corev1.ResourceName, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func sortedNames[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// volumeKind names a volume's source as its YAML key does.
func volumeKind(s corev1.VolumeSource) string {
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		if f := v.Field(i); !f.IsNil() {
			return fieldJSONName(v.Type(), i)
		}
	}
	return "unknown"
}

// forEachRoleNamed calls fn with each replica role a distributed job sets
// and its path.
func forEachRoleNamed(v reflect.Value, p specs.Path, fn func(specs.Path, *specs.KFReplica)) {
	t := v.Type()
	for i := range v.NumField() {
		f, sf := v.Field(i), t.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[*specs.KFReplica]() && !f.IsNil():
			fn(p.Child(fieldJSONName(t, i)), f.Interface().(*specs.KFReplica))
		case sf.Anonymous && f.Kind() == reflect.Struct:
			forEachRoleNamed(f, p, fn)
		}
	}
}

func unmarshalStrict(data []byte, v any) error {
	return sigsyaml.UnmarshalStrict(data, v)
}
