package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"io"

	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/registry"
)

// DefaultShardDir is where a shard's files go unless told otherwise.
const DefaultShardDir = ".shipyard/shards"

// DefaultTimings is where the timings of earlier runs are kept unless told otherwise.
const DefaultTimings = ".shipyard/timings.json"

// Shard is shipyard test --shard K/N: the shard, balanced by the timings (a file, or
// registry://HOST/REPO read with client), its files in shardDir (both relative to dir; "" for the
// defaults).
func Shard(dir, shard, shardDir, timings string, client func() (*registry.Client, func(), error)) (*coverage.ShardRun, error) {
	id, err := coverage.ParseShard(shard)
	if err != nil {
		return nil, err
	}
	s := &coverage.ShardRun{ID: id, Timings: resolve(dir, cmp.Or(timings, DefaultTimings)), Dir: resolve(dir, cmp.Or(shardDir, DefaultShardDir))}
	if isRegistry(timings) {
		s.History = recordsOf(timings, "timings", client).readTimings
	}
	return s, nil
}

// MergeShards gathers the shards' files in dirs: it returns their profiles, to gate as one run, writes
// their JUnit results merged to junit ("" for none), and records their timings as the history for the
// next run's shards (a file, or registry://HOST/REPO written with client).
func MergeShards(ctx context.Context, dir string, dirs []string, junit, timings string, client func() (*registry.Client, func(), error)) (profiles []string, err error) {
	for i, d := range dirs {
		dirs[i] = resolve(dir, d)
	}
	shards, err := coverage.ShardsIn(dirs)
	if err != nil {
		return nil, err
	}
	var ts []coverage.Timings
	var junits []string
	for _, s := range shards {
		profiles = append(profiles, s.Profile)
		junits = append(junits, s.JUnit)
		t, err := coverage.ReadTimings(s.Timings)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	if junit != "" {
		if err := coverage.WriteFile(resolve(dir, junit), func(w io.Writer) error { return coverage.MergeJUnit(junits, w) }); err != nil {
			return nil, err
		}
	}
	merged := coverage.MergeTimings(ts...)
	if isRegistry(timings) {
		doc, err := json.Marshal(merged)
		if err != nil {
			return nil, err
		}
		return profiles, recordsOf(timings, "timings", client).write(ctx, doc)
	}
	return profiles, coverage.WriteTimings(resolve(dir, cmp.Or(timings, DefaultTimings)), merged)
}
