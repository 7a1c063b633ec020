package hub

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Entry is one component of a hub listing: a name and its tags.
type Entry struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	// Aliases are other names for the component.
	Aliases []string `json:"aliases,omitempty"`
	// Tags are the component's tags, the default tag first.
	Tags []string `json:"tags"`
	// Kind, Description and Source are those of the default tag, or of
	// the first tag when there is no default.
	Kind        specs.RunKind `json:"kind"`
	Description string        `json:"description,omitempty"`
	Source      string        `json:"source"`
}

// List lists every component the hub's sources hold, parsing and
// validating each, sorted by owner and name. A tag is taken from the
// first source that holds it, as Find does. The error joins every problem
// found: a source that could not be listed, and a file that is not a
// valid component (a *ComponentError naming its source and path); the
// entries are the components that are fine.
func (h *Hub) List(ctx context.Context) ([]Entry, error) {
	type key struct{ owner, name string }
	found := map[key]map[string]*Found{}
	seen := map[compiler.HubRef]bool{}
	var errs []error
	withBuiltin := false
	for l := h; l != nil; l = l.next {
		withBuiltin = withBuiltin || l == Builtin()
		for i, src := range l.sources {
			refs, err := src.Refs(ctx)
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = append(errs, j.Unwrap()...) // one problem a line
			} else if err != nil {
				errs = append(errs, err)
			}
			for _, ref := range refs {
				if seen[ref] {
					continue
				}
				seen[ref] = true
				f, err := l.load(ctx, i, src, ref)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				k := key{ref.Owner, ref.Name}
				if found[k] == nil {
					found[k] = map[string]*Found{}
				}
				found[k][ref.Tag] = f
			}
		}
	}
	aliases := map[key][]string{}
	if withBuiltin {
		for name, tags := range tagAliases {
			k := key{compiler.DefaultHubOwner, name}
			for alias, target := range tags {
				if _, shadowed := found[k][alias]; !shadowed && found[k][target] != nil {
					found[k][alias] = found[k][target]
				}
			}
		}
		for alias, name := range nameAliases {
			k := key{compiler.DefaultHubOwner, name}
			if found[k] != nil && found[key{compiler.DefaultHubOwner, alias}] == nil {
				aliases[k] = append(aliases[k], alias)
			}
		}
	}
	entries := make([]Entry, 0, len(found))
	for k, tags := range found {
		e := Entry{Owner: k.owner, Name: k.name, Aliases: aliases[k]}
		for tag := range tags {
			e.Tags = append(e.Tags, tag)
		}
		sortTags(e.Tags)
		sort.Strings(e.Aliases)
		summary := tags[e.Tags[0]]
		e.Kind, e.Description, e.Source = summary.Component.Run.RunKind(), summary.Component.Description, summary.Source
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Owner != entries[j].Owner {
			return entries[i].Owner < entries[j].Owner
		}
		return entries[i].Name < entries[j].Name
	})
	return entries, errors.Join(errs...)
}

// IndexOf lists one source alone, as its index file says it (see Index),
// parsing and validating every component. The error joins every problem
// found; the index holds the components that are fine.
func IndexOf(ctx context.Context, src Source) (*Index, error) {
	h := &Hub{sources: []Source{src}}
	entries, err := h.List(ctx)
	idx := &Index{Components: []IndexEntry{}}
	for _, e := range entries {
		idx.Components = append(idx.Components, IndexEntry{Owner: e.Owner, Name: e.Name, Tags: slices.Clone(e.Tags)})
	}
	return idx, err
}
