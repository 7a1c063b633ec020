package chaos

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/e2e/plexusbin"
)

var (
	full = flag.Bool("chaos.full", false, "run the full chaos schedule (50 leader kills) instead of the short one")
	seed = flag.Uint64("chaos.seed", 0, "the fault schedule's seed (0: the time)")
)

// TestChaos runs a chaos schedule and fails on any duplicate, loss or
// broken invariant the history shows.
func TestChaos(t *testing.T) {
	dir := t.TempDir()
	bin, err := plexusbin.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	cfg := Config{
		Seed: s, Servers: 3, LeaseTTL: 3,
		Kills: 4, Pauses: 1, EtcdRestarts: 1, ProxyWindows: 2,
		Workload: Workload{
			Pipeline: 40, PipelineWidth: 10, PipelineConcurrency: 8,
			Singles: 9, Sweep: 8, Fires: 4, FireEvery: 3 * time.Second, PodTime: time.Second,
		},
		Settle: 3 * time.Minute,
		Plexus: bin, Dir: dir, Logf: t.Logf,
	}
	if *full {
		cfg.Kills, cfg.Pauses, cfg.EtcdRestarts, cfg.ProxyWindows = 50, 3, 3, 8
		cfg.Workload = Workload{
			Pipeline: 500, PipelineWidth: 50, PipelineConcurrency: 20,
			Singles: 50, Sweep: 50, Fires: 30, FireEvery: 10 * time.Second, PodTime: 2 * time.Second,
		}
		cfg.Settle = 5 * time.Minute
	}
	t.Logf("chaos: seed %d (-chaos.seed to repeat it)", s)
	rep, err := Run(t.Context(), cfg)
	if rep != nil && rep.Took > 0 {
		rep.Print(os.Stdout)
	}
	if err != nil {
		t.Fatalf("seed %d: %v", s, err)
	}
	if n := rep.Findings.Bad(); n > 0 {
		t.Fatalf("seed %d: the history breaks %d invariants (above)", s, n)
	}
	if rep.Kills != cfg.Kills || rep.Pauses != cfg.Pauses || rep.EtcdRestarts != cfg.EtcdRestarts {
		t.Fatalf("seed %d: %d kills, %d pauses, %d etcd restarts made; %d, %d, %d planned", s, rep.Kills, rep.Pauses, rep.EtcdRestarts, cfg.Kills, cfg.Pauses, cfg.EtcdRestarts)
	}
}
