package leader

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Elector campaigns for leadership for one engine.
type Elector struct {
	cli *clientv3.Client
	key string
	id  string
	ttl int
}

// New returns an elector for the engine id, electing on prefix+"leader".
// ttl is the session's lease in seconds: how long a dead leader holds on.
func New(cli *clientv3.Client, prefix, id string, ttl int) *Elector {
	if ttl <= 0 {
		ttl = 10
	}
	return &Elector{cli: cli, key: prefix + "leader", id: id, ttl: ttl}
}

// Term is one leadership: its context ends when the leadership does, and
// Fence must be part of every write made in it.
type Term struct {
	Fence clientv3.Cmp
	// Revision is the election key's create revision: the term's number.
	Revision int64
}

// Run campaigns, and each time this engine is elected runs lead until the
// leadership is lost or lead returns; then it campaigns again, until ctx
// ends. On ctx's end it resigns, so a standby takes over at once.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, t Term) error) error {
	for ctx.Err() == nil {
		if err := e.term(ctx, lead); err != nil && ctx.Err() == nil {
			// Lost the session or etcd: wait a little and campaign again.
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

func (e *Elector) term(ctx context.Context, lead func(context.Context, Term) error) error {
	session, err := concurrency.NewSession(e.cli, concurrency.WithTTL(e.ttl), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("leader: session: %w", err)
	}
	defer session.Close()
	election := concurrency.NewElection(session, e.key)
	if err := election.Campaign(ctx, e.id); err != nil {
		return fmt.Errorf("leader: campaign: %w", err)
	}
	t := Term{
		Fence:    clientv3.Compare(clientv3.CreateRevision(election.Key()), "=", election.Rev()),
		Revision: election.Rev(),
	}
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-session.Done(): // the lease is gone: so is the leadership
			cancel()
		case <-leadCtx.Done():
		}
	}()
	err = lead(leadCtx, t)
	cancel()
	resignCtx, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	if rerr := election.Resign(resignCtx); rerr != nil && err == nil {
		err = fmt.Errorf("leader: resign: %w", rerr)
	}
	return err
}

// Leader returns the id of the current leader, or "" when there is none.
func Leader(ctx context.Context, cli *clientv3.Client, prefix string) (string, error) {
	id, _, err := Current(ctx, cli, prefix)
	return id, err
}

// Current returns the id of the current leader and its term's number (its
// election key's create revision, Term.Revision), or "" and 0 when there is
// none: a new term has a new number, even under the same id.
func Current(ctx context.Context, cli *clientv3.Client, prefix string) (id string, revision int64, err error) {
	resp, err := cli.Get(ctx, prefix+"leader/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", 0, fmt.Errorf("leader: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", 0, nil
	}
	return string(resp.Kvs[0].Value), resp.Kvs[0].CreateRevision, nil
}

// ErrNotLeader is what work refused for want of leadership returns.
var ErrNotLeader = errors.New("leader: not the leader")
