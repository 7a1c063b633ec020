package compiler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/plexus-ml/plexus/specs"
)

// Hub finds components by hubRef. The hub package implements it; StubHub
// is a built-in stand-in with two components.
type Hub interface {
	// Component returns the component ref names, or an error wrapping
	// ErrComponentNotFound.
	Component(ctx context.Context, ref HubRef) (*specs.Component, error)
}

// A GuardedHub is a hub that can check, under a policy, who reads each component.
type GuardedHub interface {
	Hub
	// For returns the hub as c sees it under p: a lookup p does not grant
	// c fails with an error saying so.
	For(p *Policy, c Caller) Hub
}

// ErrComponentNotFound is wrapped by a Hub that has no such component.
var ErrComponentNotFound = errors.New("compiler: component not found")

// HubRef is a parsed `[owner/]name[:tag]`.
type HubRef struct {
	Owner, Name, Tag string
}

// Hub defaults, as in the reference.
const (
	DefaultHubOwner = "polyaxon"
	DefaultHubTag   = "latest"
)

// ParseHubRef reads `[owner/]name[:tag]`; a `.` in the owner part works
// like `/` (`acme.tensorboard`). The owner defaults to polyaxon, the tag to
// latest.
func ParseHubRef(s string) (HubRef, error) {
	rest, tag, hasTag := strings.Cut(s, ":")
	if hasTag && (tag == "" || strings.Contains(tag, ":")) {
		return HubRef{}, fmt.Errorf("hubRef %q: want [owner/]name[:tag]", s)
	}
	if !hasTag {
		tag = DefaultHubTag
	}
	owner, name := DefaultHubOwner, rest
	if i := strings.LastIndexAny(rest, "/."); i >= 0 {
		owner, name = rest[:i], rest[i+1:]
	}
	if owner == "" || name == "" || strings.ContainsAny(owner, "/.") {
		return HubRef{}, fmt.Errorf("hubRef %q: want [owner/]name[:tag]", s)
	}
	return HubRef{Owner: owner, Name: name, Tag: tag}, nil
}

func (r HubRef) String() string { return r.Owner + "/" + r.Name + ":" + r.Tag }

// URLFetcher fetches the component a urlRef names.
type URLFetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// HTTPFetcher fetches urlRefs with an HTTP GET, bounded in time and size.
type HTTPFetcher struct {
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Timeout bounds each fetch (default 10s).
	Timeout time.Duration
	// MaxBytes caps a component's size (default 1 MiB).
	MaxBytes int64
}

// Fetch GETs url and returns its body.
func (f *HTTPFetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	timeout, limit, client := f.Timeout, f.MaxBytes, f.Client
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if limit <= 0 {
		limit = 1 << 20
	}
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPStatusError{URL: url, Code: resp.StatusCode, Status: resp.Status}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("GET %s: the component is larger than %d bytes", url, limit)
	}
	return body, nil
}

// HTTPStatusError is an HTTP answer other than 200 OK to a fetch.
type HTTPStatusError struct {
	URL    string
	Code   int
	Status string
}

func (e *HTTPStatusError) Error() string { return fmt.Sprintf("GET %s: %s", e.URL, e.Status) }

// Sources say where referenced components come from.
type Sources struct {
	// ReadFile reads pathRefs; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
	// Hub resolves hubRefs; nil refuses them (unless the operation also
	// holds the component inline).
	Hub Hub
	// URL fetches urlRefs; nil refuses them.
	URL URLFetcher
	// PartialHub says the hub does not hold every public component (the
	// built-in stub): a hubRef it does not have is a warning, and the
	// operation's params are not checked.
	PartialHub bool
	// Policy and Caller say who resolves: when Policy is set and Hub is a
	// GuardedHub, every hubRef is looked up in Hub.For(Policy, Caller),
	// so a component the policy does not grant Caller is an error at its
	// hubRef. A nil Policy, or a hub that is no GuardedHub, reads every
	// component as is.
	Policy *Policy
	Caller Caller
}

// Resolved is the component an operation runs and where it was found.
type Resolved struct {
	Component *specs.Component
	// From says where the component came from: "inline", "dagRef NAME",
	// a file path, a URL or a hub reference.
	From string
	// Path is the operation's path in its document, and Doc the document
	// (the file itself, or one reached through a pathRef or urlRef).
	Path specs.Path
	Doc  *specs.File
}

// Resolution maps each operation of a file, and of the files it reaches,
// to the component it runs.
type Resolution struct {
	byOp  map[*specs.Operation]*Resolved
	order []*specs.Operation
	// Warnings are references left unresolved without making the file
	// invalid (see Sources.PartialHub).
	Warnings specs.ErrorList
}

// Of returns what op resolved to, or nil.
func (r *Resolution) Of(op *specs.Operation) *Resolved { return r.byOp[op] }

// Operations returns every resolved operation, in the order met (depth
// first, the file's own operation first).
func (r *Resolution) Operations() []*specs.Operation { return r.order }

// Resolve finds the component of the file's operation and of every dag
// operation inside it, following pathRefs (relative to dir, the directory
// of the file), urlRefs and hubRefs, and the references inside what they
// lead to. Every failure is reported, at the path of the reference; the
// error also wraps what the hub returned for each hubRef it could not
// resolve (a refusal under src.Policy, a component not found, a source
// that did not answer).
func Resolve(ctx context.Context, f *specs.File, dir string, src Sources) (*Resolution, error) {
	if src.ReadFile == nil {
		src.ReadFile = os.ReadFile
	}
	if g, ok := src.Hub.(GuardedHub); ok && src.Policy != nil {
		src.Hub = g.For(src.Policy, src.Caller)
	}
	r := &resolver{ctx: ctx, src: src, res: &Resolution{byOp: map[*specs.Operation]*Resolved{}}, visiting: map[string]bool{}}
	if abs, err := filepath.Abs(f.Source); err == nil {
		r.visiting[abs] = true
	}
	switch {
	case f.Operation != nil:
		r.operation(f, "", f.Operation, dir, nil)
	case f.Component != nil:
		r.component(f, "", f.Component, dir)
	}
	err := stageError(StageResolve, r.errs)
	if err != nil && len(r.causes) > 0 {
		return r.res, &resolverError{CompilationError: err.(*CompilationError), causes: r.causes}
	}
	return r.res, err
}

type resolver struct {
	ctx  context.Context
	src  Sources // its Hub already the caller's view when guarded
	res  *Resolution
	errs specs.ErrorList
	// causes are the hub's errors behind errs, for errors.Is and As.
	causes   []error
	visiting map[string]bool // files on the current pathRef chain
}

func (r *resolver) fail(doc *specs.File, p specs.Path, value any, format string, args ...any) {
	r.errs = append(r.errs, doc.Locate(specs.ErrorList{specs.Invalidf(p, value, format, args...)})...)
}

// component walks a component's dag, if it is one.
func (r *resolver) component(doc *specs.File, p specs.Path, c *specs.Component, dir string) {
	g, ok := c.Run.(*specs.DAG)
	if !ok {
		return
	}
	rp := p.Child("run")
	local := map[string]*specs.Component{}
	for i := range g.Components {
		local[g.Components[i].Name] = &g.Components[i]
		r.component(doc, rp.Child("components").Index(i), &g.Components[i], dir)
	}
	for i := range g.Operations {
		r.operation(doc, rp.Child("operations").Index(i), &g.Operations[i], dir, local)
	}
}

// operation resolves one operation's reference and walks what it finds.
func (r *resolver) operation(doc *specs.File, p specs.Path, op *specs.Operation, dir string, local map[string]*specs.Component) {
	if op.IsPreset {
		return
	}
	record := func(c *specs.Component, from string) {
		r.res.byOp[op] = &Resolved{Component: c, From: from, Path: p, Doc: doc}
		r.res.order = append(r.res.order, op)
	}
	switch {
	case op.DagRef != "":
		if c := local[op.DagRef]; c != nil {
			record(c, "dagRef "+op.DagRef) // walked with the dag's components
		}
	case op.PathRef != "":
		r.pathRef(doc, p, op, dir, record)
	case op.URLRef != "":
		r.urlRef(doc, p, op, record)
	case op.Component != nil:
		record(op.Component, "inline")
		r.component(doc, p.Child("component"), op.Component, dir)
	case op.HubRef != "":
		r.hubRef(doc, p, op, record)
	}
}

// templatedRef refuses a reference written as a template: references are
// resolved before anything renders (the component they lead to declares
// the inputs templates read), so a templated one would never be resolved.
const templatedRef = "%q is a template: a reference is resolved before templates render, so it must be written out"

func (r *resolver) pathRef(doc *specs.File, p specs.Path, op *specs.Operation, dir string, record func(*specs.Component, string)) {
	rp := p.Child("pathRef")
	if specs.IsTemplate(op.PathRef) {
		r.fail(doc, rp, op.PathRef, templatedRef, op.PathRef)
		return
	}
	if dir == "" {
		r.fail(doc, rp, op.PathRef, "pathRef %q cannot be resolved here: the component was not read from a directory", op.PathRef)
		return
	}
	target := op.PathRef
	if !filepath.IsAbs(target) {
		target = filepath.Join(dir, target)
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		r.fail(doc, rp, op.PathRef, "cannot resolve pathRef %q: %v", op.PathRef, err)
		return
	}
	if r.visiting[abs] {
		r.fail(doc, rp, op.PathRef, "pathRef %q leads back to a file that refers to it (a cycle)", op.PathRef)
		return
	}
	data, err := r.src.ReadFile(target)
	if errors.Is(err, syscall.EISDIR) {
		r.fail(doc, rp, op.PathRef, "pathRef %q is a directory, not a Polyaxonfile", op.PathRef)
		return
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.fail(doc, rp, op.PathRef, "cannot resolve pathRef %q: %v", op.PathRef, err)
		return
	}
	sub, c := r.parseComponent(doc, rp, op.PathRef, target, data)
	if c == nil {
		return
	}
	record(c, target)
	r.visiting[abs] = true
	r.component(sub, "", c, filepath.Dir(target))
	delete(r.visiting, abs)
}

func (r *resolver) urlRef(doc *specs.File, p specs.Path, op *specs.Operation, record func(*specs.Component, string)) {
	up := p.Child("urlRef")
	if specs.IsTemplate(op.URLRef) {
		r.fail(doc, up, op.URLRef, templatedRef, op.URLRef)
		return
	}
	if r.src.URL == nil {
		r.fail(doc, up, op.URLRef, "urlRefs are disabled; cannot fetch %q", op.URLRef)
		return
	}
	data, err := r.src.URL.Fetch(r.ctx, op.URLRef)
	if err != nil {
		r.fail(doc, up, op.URLRef, "cannot fetch urlRef: %v", err)
		return
	}
	sub, c := r.parseComponent(doc, up, op.URLRef, op.URLRef, data)
	if c == nil {
		return
	}
	record(c, op.URLRef)
	r.component(sub, "", c, "") // pathRefs inside a fetched component have no directory
}

func (r *resolver) hubRef(doc *specs.File, p specs.Path, op *specs.Operation, record func(*specs.Component, string)) {
	hp := p.Child("hubRef")
	if specs.IsTemplate(op.HubRef) {
		r.fail(doc, hp, op.HubRef, templatedRef, op.HubRef)
		return
	}
	ref, err := ParseHubRef(op.HubRef)
	if err != nil {
		r.fail(doc, hp, op.HubRef, "%v", err)
		return
	}
	if r.src.Hub == nil {
		r.fail(doc, hp, op.HubRef, "no component hub is configured; cannot resolve %s", ref)
		return
	}
	c, err := r.src.Hub.Component(r.ctx, ref)
	if err != nil && r.src.PartialHub && errors.Is(err, ErrComponentNotFound) {
		w := specs.Invalidf(hp, op.HubRef, "not checked against its component: %v", err)
		r.res.Warnings = append(r.res.Warnings, doc.Locate(specs.ErrorList{w})...)
		return
	}
	if err != nil {
		r.fail(doc, hp, op.HubRef, "cannot resolve hubRef: %v", err)
		r.causes = append(r.causes, err)
		return
	}
	record(c, ref.String())
}

// parseComponent parses a referenced file that must hold one component.
// Its own errors are reported with its name as their source.
func (r *resolver) parseComponent(doc *specs.File, p specs.Path, ref, source string, data []byte) (*specs.File, *specs.Component) {
	files, err := specs.Parse(source, data)
	if err != nil {
		var list specs.ErrorList
		errors.As(err, &list)
		r.fail(doc, p, ref, "%s is not a valid component: %s", source, plural(len(list), "error"))
		r.errs = append(r.errs, list...)
		return nil, nil
	}
	if len(files) != 1 || files[0].Component == nil {
		r.fail(doc, p, ref, "%s must hold exactly one component (kind: component)", source)
		return nil, nil
	}
	return files[0], files[0].Component
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
