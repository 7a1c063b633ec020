package compiler

import (
	"context"
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

//go:embed stubhub/*.yaml
var stubFiles embed.FS

// StubHub is a hub holding two public components under the default owner
// and the `latest` tag, `kaniko` (a build job) and `tensorboard` (a
// service), for the compiler's own tests and the conformance check. The
// hub package (specs/hub) is the catalogue Plexus runs with.
func StubHub() Hub { return stubHub{} }

type stubHub struct{}

// Component returns a stub component, parsed afresh so callers may change it.
func (stubHub) Component(_ context.Context, ref HubRef) (*specs.Component, error) {
	name := ref.Name + ".yaml"
	data, err := stubFiles.ReadFile(path.Join("stubhub", name))
	if err != nil || ref.Owner != DefaultHubOwner || ref.Tag != DefaultHubTag {
		return nil, fmt.Errorf("%w: %s (the built-in hub has %s)", ErrComponentNotFound, ref, strings.Join(stubNames(), ", "))
	}
	files, err := specs.Parse("hub:"+ref.String(), data)
	if err != nil {
		return nil, fmt.Errorf("hub component %s: %w", ref, err)
	}
	return files[0].Component, nil
}

func stubNames() []string {
	entries, _ := stubFiles.ReadDir("stubhub")
	var names []string
	for _, e := range entries {
		names = append(names, DefaultHubOwner+"/"+strings.TrimSuffix(e.Name(), ".yaml")+":"+DefaultHubTag)
	}
	sort.Strings(names)
	return names
}
