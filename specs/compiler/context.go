package compiler

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/specs"
)

// RunInfo is what the compiler knows of the run it compiles for. The
// engine fills it from the run record; `plexus compile` makes one up.
type RunInfo struct {
	// UUID is the run's id, 32 lower-case hex digits.
	UUID        string
	Name        string
	Owner       string // default "plexus"
	Project     string // default "default"
	ProjectUUID string
	Namespace   string
	Iteration   *int
	// Times of the run; the zero time means "not yet" (None in templates).
	CreatedAt, CompiledAt, ScheduleAt, StartedAt, FinishedAt time.Time
	// CloningKind is copy, restart or cache for a run made from another,
	// whose uuid is OriginalUUID.
	CloningKind  string
	OriginalUUID string
	// ContextPath is where the run's context is mounted (default
	// /plx-context, as in the reference); StorePath the artifacts store's
	// path or URL, shown only when plugins.mountArtifactsStore is on.
	ContextPath string
	StorePath   string
	// Ports, when set, says where a service listens instead of the ports
	// it declares (the local executor gives each service free ports on
	// the host): the compiled run's ports and globals.ports are what it
	// returns for the declared ones.
	Ports func(declared []int) ([]int, error) `json:"-"`
}

// NewUUID returns a new run id: a random (version 4) UUID as 32
// lower-case hex digits, the form RunInfo.UUID takes.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// Defaults of RunInfo.
const (
	DefaultOwner       = "plexus"
	DefaultProject     = "default"
	DefaultContextPath = "/plx-context"
)

func (ri RunInfo) withDefaults() RunInfo {
	if ri.Owner == "" {
		ri.Owner = DefaultOwner
	}
	if ri.Project == "" {
		ri.Project = DefaultProject
	}
	if ri.ContextPath == "" {
		ri.ContextPath = DefaultContextPath
	}
	return ri
}

// Globals returns `globals.*` for a run of comp (§7.1 of the spec):
// names, ids, paths, times, the cloning kind and, for services, `ports`
// and `base_url`. docs/context.md documents each.
func Globals(ri RunInfo, comp *specs.Component) map[string]any {
	ri = ri.withDefaults()
	artifacts := path.Join(ri.ContextPath, "artifacts")
	runArtifacts := path.Join(artifacts, ri.UUID)
	collect := true
	mountStore := false
	if pl := comp.Plugins; pl != nil {
		if pl.CollectArtifacts != nil {
			collect = *pl.CollectArtifacts
		}
		if pl.MountArtifactsStore != nil {
			mountStore = *pl.MountArtifactsStore
		}
	}
	if !collect && ri.StorePath != "" {
		runArtifacts = path.Join(ri.StorePath, ri.Project, "runs", ri.UUID)
	}
	g := map[string]any{
		"owner_name":          ri.Owner,
		"project_name":        ri.Project,
		"project_unique_name": ri.Owner + "." + ri.Project,
		"project_uuid":        ri.ProjectUUID,
		"run_info":            ri.Owner + "." + ri.Project + ".runs." + ri.UUID,
		"name":                ri.Name,
		"uuid":                ri.UUID,
		"namespace":           ri.Namespace,
		"iteration":           nil,
		"context_path":        ri.ContextPath,
		"artifacts_path":      artifacts,
		"run_artifacts_path":  runArtifacts,
		"run_outputs_path":    path.Join(runArtifacts, "outputs"),
		"created_at":          isoTime(ri.CreatedAt),
		"compiled_at":         isoTime(ri.CompiledAt),
		"schedule_at":         isoTime(ri.ScheduleAt),
		"started_at":          isoTime(ri.StartedAt),
		"finished_at":         isoTime(ri.FinishedAt),
		"duration":            nil,
		"cloning_kind":        nilIfEmpty(ri.CloningKind),
		"original_uuid":       nilIfEmpty(ri.OriginalUUID),
		"is_independent":      true,
		"store_path":          "",
	}
	if ri.Iteration != nil {
		g["iteration"] = *ri.Iteration
	}
	if !ri.StartedAt.IsZero() && !ri.FinishedAt.IsZero() {
		g["duration"] = ri.FinishedAt.Sub(ri.StartedAt).Seconds()
	}
	if mountStore {
		g["store_path"] = ri.StorePath
	}
	if svc, ok := comp.Run.(*specs.Service); ok {
		ports := make([]any, len(svc.Ports.Items))
		for i, p := range svc.Ports.Items {
			ports[i] = p
		}
		g["ports"] = ports
		g["base_url"] = serviceBaseURL(ri, svc)
	}
	return g
}

// ServicePath is the path a compiled service answers at: its
// globals.base_url, or / when the proxy rewrites that prefix away
// (rewritePath). It is "" for a run that is not a service.
func (c *Compiled) ServicePath() string {
	svc, ok := c.Component.Run.(*specs.Service)
	if !ok {
		return ""
	}
	if svc.RewritePath != nil && *svc.RewritePath {
		return "/"
	}
	return serviceBaseURL(c.Run, svc)
}

// serviceBaseURL is the path a service is served at through the proxy.
func serviceBaseURL(ri RunInfo, svc *specs.Service) string {
	route := "services"
	if svc.IsExternal != nil && *svc.IsExternal {
		route = "external"
	}
	if svc.RewritePath != nil && *svc.RewritePath {
		route = "rewrite-" + route
	}
	return fmt.Sprintf("/%s/v1/%s/%s/%s/runs/%s/", route, ri.Namespace, ri.Owner, ri.Project, ri.UUID)
}

func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Connection is a connection's schema as templates see it
// (`connections['registry'].url`).
type Connection map[string]any

// Context builds the variables templates see (§7.2–7.3 of the spec):
// `globals`, every param by name (its display value), `params.<name>` with
// value, connection, type, as_str and as_arg, `params.as_args`, and
// `connections[<name>]` / `init[<name>]` for the connections the run asks
// for. There is no `ops` variable: upstream values reach a template only
// through a param with a ref.
func Context(globals map[string]any, params Params, conns, inits map[string]Connection) (map[string]any, error) {
	ctx := map[string]any{"globals": globals}
	paramsVar := map[string]any{}
	var asArgs []any
	var errs specs.ErrorList
	for _, p := range params {
		ctx[p.Name] = p.Display()
		if p.ContextOnly {
			continue
		}
		arg, err := p.AsArg(renderArgFormat)
		if err != nil {
			errs = append(errs, specs.Invalidf(specs.Path("params").Key(p.Name), p.ArgFormat, "argFormat: %v", err))
		}
		typ := any(nil)
		if p.Type != "" {
			typ = string(p.Type)
		}
		paramsVar[p.Name] = map[string]any{
			"value":      p.Value,
			"connection": nilIfEmpty(p.Connection),
			"type":       typ,
			"as_str":     p.AsStr(),
			"as_arg":     arg,
		}
		if arg != "" {
			asArgs = append(asArgs, arg)
		}
	}
	if asArgs == nil {
		asArgs = []any{}
	}
	paramsVar["as_args"] = asArgs
	ctx["params"] = paramsVar
	ctx["connections"] = connectionsVar(conns)
	ctx["init"] = connectionsVar(inits)
	if len(errs) > 0 {
		return nil, stageError(StageContext, errs)
	}
	return ctx, nil
}

func connectionsVar(conns map[string]Connection) map[string]any {
	out := make(map[string]any, len(conns))
	for name, c := range conns {
		out[name] = map[string]any(c)
	}
	return out
}

// StageContext builds the template context.
const StageContext Stage = "context"

// renderArgFormat renders an argFormat with only the param in scope.
func renderArgFormat(tmpl string, vars map[string]any) (string, error) {
	out, err := newRenderer(vars).render(tmpl)
	if err != nil {
		return "", fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return out, nil
}
