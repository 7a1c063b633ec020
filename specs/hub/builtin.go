package hub

import (
	"context"
	"embed"
	"io/fs"
	"slices"
	"sort"
	"sync"

	"github.com/plexus-ml/plexus/specs/compiler"
)

// embedded holds the built-in components, under the default owner:
// components/polyaxon/<name>/<tag>.yaml.
//
//go:embed components
var embedded embed.FS

// BuiltinSource is the name of the built-in hub's source.
const BuiltinSource = "built-in"

// Builtin returns the hub built into Plexus: the public catalogue of
// services (tensorboard, jupyterlab, jupyter-notebook, vscode, streamlit),
// jobs (papermill, and the image builders kaniko and dockerizer) and the
// notifiers hooks run (slack, webhook), all under the default owner. It
// is shared: its files are parsed once per process.
func Builtin() *Hub { return builtinHub() }

var builtinHub = sync.OnceValue(func() *Hub {
	sub, err := fs.Sub(embedded, "components")
	if err != nil {
		panic(err) // the directory is embedded: this cannot fail
	}
	return &Hub{sources: []Source{&fsSource{name: BuiltinSource, fsys: sub}}}
})

// nameAliases are other names of built-in components, under the default
// owner, as the public hub spells them.
var nameAliases = map[string]string{
	"notebook":    "jupyter-notebook",
	"jupyter-lab": "jupyterlab",
}

// tagAliases are other tags of built-in components: tensorboard's latest
// is its single-run.
var tagAliases = map[string]map[string]string{
	"tensorboard": {"latest": "single-run"},
}

// resolveAlias returns what an alias of the default owner stands for.
func resolveAlias(ref compiler.HubRef) (compiler.HubRef, bool) {
	if ref.Owner != compiler.DefaultHubOwner {
		return ref, false
	}
	out := ref
	if n, ok := nameAliases[out.Name]; ok {
		out.Name = n
	}
	if t, ok := tagAliases[out.Name][out.Tag]; ok {
		out.Tag = t
	}
	return out, out != ref
}

// builtinCatalogue lists the built-in names and each one's tags (alias
// tags included), without parsing anything.
var builtinCatalogue = sync.OnceValues(func() ([]string, map[string][]string) {
	refs, _ := Builtin().sources[0].Refs(context.Background())
	tags := map[string][]string{}
	for _, r := range refs {
		tags[r.Name] = append(tags[r.Name], r.Tag)
	}
	for name, aliases := range tagAliases {
		for alias := range aliases {
			if !slices.Contains(tags[name], alias) {
				tags[name] = append(tags[name], alias)
			}
		}
	}
	var names []string
	for name := range tags {
		names = append(names, name)
		sortTags(tags[name])
	}
	sort.Strings(names)
	return names, tags
})

// sortTags puts the default tag first and the others in order.
func sortTags(tags []string) {
	sort.Slice(tags, func(i, j int) bool {
		if (tags[i] == compiler.DefaultHubTag) != (tags[j] == compiler.DefaultHubTag) {
			return tags[i] == compiler.DefaultHubTag
		}
		return tags[i] < tags[j]
	})
}
