package figures

import (
	"context"
	"log"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

// Pct is the p-th quantile (0..1) of sorted durations, to 10µs; 0 for
// none.
func Pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[int(p*float64(len(ds)-1))].Round(10 * time.Microsecond)
}

// Revision is the store's current revision; the benchmark stops if the
// store cannot be read.
func Revision(st *store.Store) int64 {
	resp, err := st.Client().Get(context.Background(), "/")
	if err != nil {
		log.Fatal(err)
	}
	return resp.Header.Revision
}
