package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// cacheKeyOf says whether the run's result may be reused and kept for
// reuse (its `cache` section, as the reference reads it: an independent
// run uses the cache only when `disable: false` is written, a pipeline's
// child unless `disable: true`; a restart never does), under which key,
// and for how long (0: no limit).
//
// The key hashes the run's project, its component as resolved at
// submission (with the operation's runPatch), and its inputs' and
// outputs' params by value, limited to `cache.io` when given. The
// component includes its containers, init and connections, so the
// reference's `sections` always count.
func cacheKeyOf(r *store.Run, c *compiler.Compiled) (key string, ttl time.Duration, on bool) {
	cache := c.Component.Cache
	switch {
	case r.RestartOf != "":
		return "", 0, false
	case r.Parent == "" && (cache == nil || cache.Disable == nil || *cache.Disable):
		return "", 0, false
	case cache != nil && cache.Disable != nil && *cache.Disable:
		return "", 0, false
	}
	if cache != nil && cache.TTL != nil {
		ttl = time.Duration(cache.TTL.Value) * time.Second
	}
	var res resolved
	if err := json.Unmarshal(r.Compiled, &res); err != nil {
		return "", 0, false
	}
	var op struct {
		RunPatch      json.RawMessage `json:"runPatch,omitempty"`
		PatchStrategy string          `json:"patchStrategy,omitempty"`
	}
	_ = json.Unmarshal(res.Operation, &op)
	type kv struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}
	var params []kv
	for _, p := range c.Params {
		if cache != nil && len(cache.IO) > 0 && !slices.Contains(cache.IO, p.Name) {
			continue
		}
		params = append(params, kv{p.Name, p.Value})
	}
	slices.SortFunc(params, func(a, b kv) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	doc, err := json.Marshal(struct {
		Project       string          `json:"project"`
		Component     json.RawMessage `json:"component"`
		RunPatch      json.RawMessage `json:"runPatch,omitempty"`
		PatchStrategy string          `json:"patchStrategy,omitempty"`
		Params        []kv            `json:"params"`
	}{r.Project, res.Component, op.RunPatch, op.PatchStrategy, params})
	if err != nil {
		return "", 0, false
	}
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:]), ttl, true
}

// cacheHit returns the run that last succeeded under key, if it is
// younger than ttl (0: any age).
func (l *leading) cacheHit(ctx context.Context, key string, ttl time.Duration, now time.Time) (*store.Run, error) {
	uuid, err := l.st.Cached(ctx, key)
	if err != nil || uuid == "" {
		return nil, err
	}
	r, _, err := l.st.Get(ctx, uuid)
	if err != nil {
		return nil, nil // the run was deleted: no hit
	}
	if r.Status != store.Succeeded || len(r.Conditions) == 0 {
		return nil, nil
	}
	if ended := r.Conditions[len(r.Conditions)-1].Time; ttl > 0 && now.Sub(ended) > ttl {
		return nil, nil
	}
	return r, nil
}
