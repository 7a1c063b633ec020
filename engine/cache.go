package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
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
// reference's `sections` always count. A dag's child, which keeps no
// compilation of its own, is keyed on its operation in the dag the term
// drives (see pipeline.cacheDoc); without it, it does not use the cache.
func (l *leading) cacheKeyOf(r *store.Run, c *compiler.Compiled) (key string, ttl time.Duration, on bool) {
	if ttl, on = cacheOn(r, c); !on {
		return "", 0, false
	}
	var component, runPatch json.RawMessage
	var strategy string
	if compiledByDag(r) {
		l.mu.Lock()
		p := l.pipelines[r.Parent]
		l.mu.Unlock()
		if p == nil || p.uuid != r.Parent {
			return "", 0, false
		}
		var err error
		if component, runPatch, strategy, err = p.cacheDoc(r.Node); err != nil {
			return "", 0, false
		}
	} else {
		var res resolved
		if err := json.Unmarshal(r.Compiled, &res); err != nil {
			return "", 0, false
		}
		var op struct {
			RunPatch      json.RawMessage `json:"runPatch,omitempty"`
			PatchStrategy string          `json:"patchStrategy,omitempty"`
		}
		_ = json.Unmarshal(res.Operation, &op)
		component, runPatch, strategy = res.Component, op.RunPatch, op.PatchStrategy
	}
	key, ok := cacheKey(r.Project, component, runPatch, strategy, c)
	return key, ttl, ok
}

// cacheOn says whether the run uses the cache, and its ttl.
func cacheOn(r *store.Run, c *compiler.Compiled) (time.Duration, bool) {
	cache := c.Component.Cache
	switch {
	case r.RestartOf != "", r.FireAt != nil: // a schedule's fire runs anew each time
		return 0, false
	case r.ResumeOf != "": // its result depends on what its original left, not on its params alone
		return 0, false
	case r.Parent == "" && (cache == nil || cache.Disable == nil || *cache.Disable):
		return 0, false
	case cache != nil && cache.Disable != nil && *cache.Disable:
		return 0, false
	}
	if cache != nil && cache.TTL != nil {
		return specs.Seconds(cache.TTL.Value), true // saturates: a rendered template may exceed a Duration
	}
	return 0, true
}

// cacheKey hashes what makes two runs' results the same.
func cacheKey(project string, component, runPatch json.RawMessage, strategy string, c *compiler.Compiled) (string, bool) {
	cache := c.Component.Cache
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
	slices.SortFunc(params, func(a, b kv) int { return strings.Compare(a.Name, b.Name) })
	doc, err := json.Marshal(struct {
		Project       string          `json:"project"`
		Component     json.RawMessage `json:"component"`
		RunPatch      json.RawMessage `json:"runPatch,omitempty"`
		PatchStrategy string          `json:"patchStrategy,omitempty"`
		Params        []kv            `json:"params"`
	}{project, component, runPatch, strategy, params})
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:]), true
}

// cacheHit returns the run that last succeeded under key, if it is
// younger than ttl (0: any age).
func (l *leading) cacheHit(ctx context.Context, key string, ttl time.Duration, now time.Time) (*store.Run, error) {
	hits, err := l.cacheHits(ctx, map[string]time.Duration{key: ttl}, now)
	return hits[key], err
}

// cacheHits looks up many keys, each with its ttl, in two reads of the
// store; it returns the hits by key.
func (l *leading) cacheHits(ctx context.Context, ttls map[string]time.Duration, now time.Time) (map[string]*store.Run, error) {
	keys := make([]string, 0, len(ttls))
	for k := range ttls {
		keys = append(keys, k)
	}
	cached, err := l.st.CachedMany(ctx, keys)
	if err != nil || len(cached) == 0 {
		return nil, err
	}
	uuids := make([]string, 0, len(cached))
	for _, uuid := range cached {
		uuids = append(uuids, uuid)
	}
	runs, err := l.st.GetMany(ctx, uuids)
	if err != nil && !errors.Is(err, store.ErrUnreadable) { // an unreadable one is no hit
		return nil, err
	}
	byUUID := make(map[string]*store.Run, len(runs))
	for _, r := range runs {
		byUUID[r.UUID] = r
	}
	hits := map[string]*store.Run{}
	for key, uuid := range cached {
		r := byUUID[uuid] // absent: the run was deleted, no hit
		if r == nil || r.Status != store.Succeeded || len(r.Conditions) == 0 {
			continue
		}
		if ended := r.Conditions[len(r.Conditions)-1].Time; ttls[key] > 0 && now.Sub(ended) > ttls[key] {
			continue
		}
		hits[key] = r
	}
	return hits, nil
}
