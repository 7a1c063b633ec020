package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// ErrForbidden is wrapped by a lookup the access policy refuses.
var ErrForbidden = errors.New("hub: access denied")

// CheckAccess says whether caller may use the component ref names under
// the compiler's access policy p. The policy has no list of components of
// its own, so the hub reads it as the reference does, where a component
// is a project of its owner:
//
//   - no policy (nil) allows everything, as compiler.CheckAccess does;
//   - the default owner's components, the public catalogue, are for every
//     caller (what their runs may use is compiler.CheckAccess's to say);
//   - a private component owner/name is for the user named owner, for the
//     members of the team named owner, and for every caller that a rule
//     naming them (by user or team, "*" for any) grants the project
//     "owner/name", "owner/*" or "*".
//
// The tag plays no part: who may use a component may use all its tags.
// A refusal wraps ErrForbidden.
func CheckAccess(p *compiler.Policy, caller compiler.Caller, ref compiler.HubRef) error {
	if p == nil || ref.Owner == compiler.DefaultHubOwner {
		return nil
	}
	if caller.User == ref.Owner || slices.Contains(caller.Teams, ref.Owner) {
		return nil
	}
	grants := []string{ref.Owner + "/" + ref.Name, ref.Owner + "/*", "*"}
	for _, r := range p.Rules {
		if !names(r.Users, caller.User) && !slices.ContainsFunc(caller.Teams, func(t string) bool { return names(r.Teams, t) }) {
			continue
		}
		if slices.ContainsFunc(r.Projects, func(proj string) bool { return slices.Contains(grants, proj) }) {
			return nil
		}
	}
	who := caller.User
	if who == "" {
		who = "the caller"
	}
	return fmt.Errorf("%w: %s may not use the component %s/%s", ErrForbidden, who, ref.Owner, ref.Name)
}

// names says whether a rule's list names v, as compiler.Policy reads its
// rules: by name, or with "*".
func names(list []string, v string) bool {
	return v != "" && (slices.Contains(list, v) || slices.Contains(list, "*"))
}

// A Hub is a compiler.GuardedHub: compiler.Resolve reads it through For
// when its Sources carry a policy.
var _ compiler.GuardedHub = (*Hub)(nil)

// For returns the hub as caller sees it under policy p: every lookup is
// checked with CheckAccess before anything is read, so that a refusal
// does not tell whether the component exists. compiler.Resolve calls it
// when its Sources set a Policy (plexus compile --policy, plexus server
// --policy), reporting a refusal at the hubRef's path.
func (h *Hub) For(p *compiler.Policy, caller compiler.Caller) compiler.Hub {
	return &guarded{h: h, policy: p, caller: caller}
}

type guarded struct {
	h      *Hub
	policy *compiler.Policy
	caller compiler.Caller
}

func (g *guarded) Component(ctx context.Context, ref compiler.HubRef) (*specs.Component, error) {
	if err := CheckAccess(g.policy, g.caller, ref); err != nil {
		return nil, err
	}
	return g.h.Component(ctx, ref)
}
