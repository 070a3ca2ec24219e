package pipeline

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/registry"
)

func recordsRegistry(t *testing.T) string {
	t.Helper()
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir(), NoUI: true})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return "registry://" + s.Host() + "/acme/api"
}

// TestRegistryBaselineSurvivesConcurrentUpdates: four runs record their totals at once; none is lost,
// and the highest is the baseline the gate reads.
func TestRegistryBaselineSurvivesConcurrentUpdates(t *testing.T) {
	ref := recordsRegistry(t)
	client := ClientFor(config.Registry{}, func(string) string { return "" })
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, covered := range []int{70, 90, 80, 85} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &coverage.Report{Total: coverage.Counts{Statements: 100, Covered: covered}}
			errs[i] = WriteBaseline(context.Background(), t.TempDir(), ref, r, client)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	store := recordsOf(ref, "baseline", client)
	tags, err := store.tags(context.Background())
	require.NoError(t, err)
	assert.Len(t, tags, 4, "each update is a record of its own")
	b, err := store.ReadBaseline(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 90.0, b.Total)

	// The gate reads it there: 89.95 is within the tolerance, 89 is not.
	g := TestGate(t.TempDir(), config.Test{Baseline: ref}, client)
	for covered, pass := range map[int]bool{9000: true, 8995: true, 8900: false} {
		r := &coverage.Report{Total: coverage.Counts{Statements: 10000, Covered: covered}}
		res, err := r.Gate(context.Background(), &coverage.Profile{}, g)
		require.NoError(t, err)
		assert.Equal(t, pass, len(res.Failures) == 0, "%d", covered)
	}

	// Writers keep the newest recordsKept.
	for i := range recordsKept + 3 {
		r := &coverage.Report{Total: coverage.Counts{Statements: 100, Covered: 50 + i}}
		require.NoError(t, WriteBaseline(context.Background(), t.TempDir(), ref, r, client))
	}
	tags, err = store.tags(context.Background())
	require.NoError(t, err)
	assert.Len(t, tags, recordsKept)
}

// TestRegistryTimings: test merge records the shards' timings in the registry, and the next shards
// plan from them.
func TestRegistryTimings(t *testing.T) {
	ref := recordsRegistry(t)
	client := ClientFor(config.Registry{}, func(string) string { return "" })
	s, err := Shard(t.TempDir(), "1/2", "", ref, client)
	require.NoError(t, err)
	got, err := s.History(context.Background())
	require.NoError(t, err)
	assert.Empty(t, got.Packages, "no history yet")

	dir := t.TempDir()
	for k, secs := range []float64{3, 5} {
		id := coverage.ShardID{K: k + 1, N: 2}
		files := coverage.FilesOf(dir, id)
		require.NoError(t, coverage.WriteFile(files.Profile, (&coverage.Profile{Mode: "atomic"}).Write))
		require.NoError(t, coverage.WriteTimings(files.Timings, coverage.Timings{Packages: map[string]float64{fmt.Sprintf("m/p%d", k): secs}}))
	}
	_, err = MergeShards(context.Background(), dir, []string{"."}, "", ref, client)
	require.NoError(t, err)
	got, err = s.History(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"m/p0": 3, "m/p1": 5}, got.Packages)
}
