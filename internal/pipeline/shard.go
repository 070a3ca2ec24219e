package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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
// next run's shards (a file, or registry://HOST/REPO written with client). testsErr says a shard's tests
// failed.
func MergeShards(ctx context.Context, dir string, dirs []string, junit, timings string, client func() (*registry.Client, func(), error)) (profiles []string, testsErr, err error) {
	for i, d := range dirs {
		dirs[i] = resolve(dir, d)
	}
	shards, err := coverage.ShardsIn(dirs)
	if err != nil {
		return nil, nil, err
	}
	var ts []coverage.Timings
	var junits []string
	for _, s := range shards {
		profiles = append(profiles, s.Profile)
		junits = append(junits, s.JUnit)
		t, err := coverage.ReadTimings(s.Timings)
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, t)
	}
	merge := func(w io.Writer) error {
		testsErr = coverage.MergeJUnit(junits, w)
		if errors.Is(testsErr, coverage.ErrTestsFailed) {
			return nil
		}
		return testsErr
	}
	if junit == "" {
		err = merge(io.Discard)
	} else {
		err = coverage.WriteFile(resolve(dir, junit), merge)
	}
	if err != nil {
		return nil, nil, err
	}
	merged := coverage.MergeTimings(ts...)
	if isRegistry(timings) {
		doc, err := json.Marshal(merged)
		if err != nil {
			return nil, nil, err
		}
		return profiles, testsErr, recordsOf(timings, "timings", client).write(ctx, doc)
	}
	return profiles, testsErr, coverage.WriteTimings(resolve(dir, cmp.Or(timings, DefaultTimings)), merged)
}
