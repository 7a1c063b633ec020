package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Hub finds components by hubRef: in its sources, in order, then in the
// built-in hub. The first source holding the file wins, so a private
// source shadows a built-in component of the same ref. A file that does
// not parse or validate is an error naming its source and path, never
// passed over for a later source.
//
// Each file is read, parsed and validated once, at its first use, and
// every lookup returns a fresh copy that the caller may change. A file
// that could not be read (a server down) is read again next time; one
// that could not be found is looked for again. A Hub is safe for
// concurrent use.
type Hub struct {
	sources []Source
	// next is the built-in hub, searched after sources; nil for the
	// built-in hub itself and for a hub over one source (IndexOf).
	next *Hub

	mu    sync.Mutex
	cache map[cacheKey]*cell
}

type cacheKey struct {
	source int
	ref    compiler.HubRef
}

// cell holds one file's result, computed once.
type cell struct {
	once  sync.Once
	found *Found
	err   error
}

// Found is a component and where it was found.
type Found struct {
	// Ref is the component's file: the ref asked for, or the one an alias
	// leads to.
	Ref       compiler.HubRef
	Component *specs.Component
	// Source names the source (a directory, a URL, "built-in"), Location
	// the file (a path or a URL).
	Source, Location string
	// Text is the file as written.
	Text []byte
}

// ComponentError is a hub file that is not a valid component.
type ComponentError struct {
	Ref              compiler.HubRef
	Source, Location string
	// Err is a specs.ErrorList, or says the file holds no single component.
	Err error
}

func (e *ComponentError) Error() string {
	return fmt.Sprintf("hub source %s: %s is not a valid component (%s): %v", e.Source, e.Location, e.Ref, e.Err)
}

func (e *ComponentError) Unwrap() error { return e.Err }

// New returns a hub that searches sources, in order, before the built-in
// hub.
func New(sources ...Source) *Hub {
	return &Hub{sources: slices.Clone(sources), next: Builtin()}
}

// Sources names where the hub looks, in order, the built-in hub last.
func (h *Hub) Sources() []string {
	var out []string
	for l := h; l != nil; l = l.next {
		for _, s := range l.sources {
			out = append(out, s.String())
		}
	}
	return out
}

// Component returns the component ref names, or an error wrapping
// compiler.ErrComponentNotFound when no source holds it. It implements
// compiler.Hub.
func (h *Hub) Component(ctx context.Context, ref compiler.HubRef) (*specs.Component, error) {
	f, err := h.Find(ctx, ref)
	if err != nil {
		return nil, err
	}
	return f.Component, nil
}

// Find is Component, saying where the component was found.
func (h *Hub) Find(ctx context.Context, ref compiler.HubRef) (*Found, error) {
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	candidates := []compiler.HubRef{ref}
	if alias, ok := resolveAlias(ref); ok {
		candidates = append(candidates, alias)
	}
	for l := h; l != nil; l = l.next {
		for i, src := range l.sources {
			for _, c := range candidates {
				f, err := l.load(ctx, i, src, c)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return nil, err
				}
				out := *f
				out.Component = compiler.CopyComponent(f.Component)
				out.Text = slices.Clone(f.Text)
				return &out, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s (%s)", compiler.ErrComponentNotFound, ref, h.notFoundHint(ref))
}

// load reads, parses and validates a source's file once. A read failure
// other than a ComponentError is forgotten, so that the next lookup tries
// again.
func (h *Hub) load(ctx context.Context, i int, src Source, ref compiler.HubRef) (*Found, error) {
	k := cacheKey{i, ref}
	h.mu.Lock()
	if h.cache == nil {
		h.cache = map[cacheKey]*cell{}
	}
	c := h.cache[k]
	if c == nil {
		c = &cell{}
		h.cache[k] = c
	}
	h.mu.Unlock()
	c.once.Do(func() { c.found, c.err = parse(ctx, src, ref) })
	var ce *ComponentError
	if c.err != nil && !errors.As(c.err, &ce) {
		h.mu.Lock()
		if h.cache[k] == c {
			delete(h.cache, k)
		}
		h.mu.Unlock()
	}
	return c.found, c.err
}

// parse reads a source's file and parses it as one valid component.
func parse(ctx context.Context, src Source, ref compiler.HubRef) (*Found, error) {
	data, loc, err := src.Read(ctx, ref)
	if err != nil {
		return nil, err
	}
	bad := func(err error) error {
		return &ComponentError{Ref: ref, Source: src.String(), Location: loc, Err: err}
	}
	files, err := specs.Parse(loc, data)
	if err != nil {
		return nil, bad(err)
	}
	if len(files) != 1 || files[0].Component == nil {
		return nil, bad(errors.New("the file must hold exactly one component (kind: component)"))
	}
	return &Found{Ref: ref, Component: files[0].Component, Source: src.String(), Location: loc, Text: data}, nil
}

// notFoundHint says where the hub looked and, for the default owner, what
// the built-in hub holds instead.
func (h *Hub) notFoundHint(ref compiler.HubRef) string {
	var hint strings.Builder
	hint.WriteString("looked in ")
	for i, s := range h.Sources() {
		if i > 0 {
			hint.WriteString(", ")
		}
		if s == BuiltinSource {
			s = "the built-in hub"
		}
		hint.WriteString(s)
	}
	if ref.Owner != compiler.DefaultHubOwner || !h.hasBuiltin() {
		return hint.String()
	}
	names, tags := builtinCatalogue()
	name := ref.Name
	if canonical, ok := nameAliases[name]; ok {
		name = canonical
	}
	if t := tags[name]; len(t) > 0 {
		fmt.Fprintf(&hint, "; the built-in %s has the tags %s", name, strings.Join(t, ", "))
	} else {
		fmt.Fprintf(&hint, "; the built-in hub has %s", strings.Join(names, ", "))
	}
	return hint.String()
}

func (h *Hub) hasBuiltin() bool {
	for l := h; l != nil; l = l.next {
		if l == Builtin() {
			return true
		}
	}
	return false
}
