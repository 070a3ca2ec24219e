package pipeline

import (
	"cmp"
	"io"

	"github.com/shipyardci/shipyard/coverage"
)

// DefaultShardDir is where a shard's files go unless told otherwise.
const DefaultShardDir = ".shipyard/shards"

// DefaultTimings is where the timings of earlier runs are kept unless told otherwise.
const DefaultTimings = ".shipyard/timings.json"

// Shard is shipyard test --shard K/N: the shard, balanced by the timings file, its files in shardDir
// (both relative to dir; "" for the defaults).
func Shard(dir, shard, shardDir, timings string) (*coverage.ShardRun, error) {
	id, err := coverage.ParseShard(shard)
	if err != nil {
		return nil, err
	}
	return &coverage.ShardRun{ID: id, Timings: resolve(dir, cmp.Or(timings, DefaultTimings)), Dir: resolve(dir, cmp.Or(shardDir, DefaultShardDir))}, nil
}

// MergeShards gathers the shards' files in dirs: it returns their profiles, to gate as one run, writes
// their JUnit results merged to junit ("" for none), and records their timings as the history for the
// next run's shards.
func MergeShards(dir string, dirs []string, junit, timings string) (profiles []string, err error) {
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
	return profiles, coverage.WriteTimings(resolve(dir, cmp.Or(timings, DefaultTimings)), coverage.MergeTimings(ts...))
}
