package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

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

// Merged is what test merge gathered: the Go shards' profiles, or else the lcov tracefiles of other
// languages' shards (jest --shard), and whether a shard's tests failed.
type Merged struct {
	Profiles, Lcov []string
	TestsErr       error
}

// MergeShards gathers the shards' files in dirs (relative to dir). Go shards (shard-K-of-N.cover.out):
// their profiles, to gate as one run, their JUnit results merged to junit ("" for none), and their
// timings recorded as the history for the next run's shards (a file, or registry://HOST/REPO written
// with client). Without Go shards, the lcov tracefiles (*.info, *.lcov) under dirs, to add up.
func MergeShards(ctx context.Context, dir string, dirs []string, junit, timings string, client func() (*registry.Client, func(), error)) (*Merged, error) {
	for i, d := range dirs {
		dirs[i] = resolve(dir, d)
	}
	shards, err := coverage.ShardsIn(dirs)
	if err != nil {
		lcov, lerr := lcovFiles(dirs)
		if lerr != nil || len(lcov) == 0 {
			return nil, err
		}
		return &Merged{Lcov: lcov}, nil
	}
	m := &Merged{}
	var ts []coverage.Timings
	var junits []string
	for _, s := range shards {
		m.Profiles = append(m.Profiles, s.Profile)
		junits = append(junits, s.JUnit)
		t, err := coverage.ReadTimings(s.Timings)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	merge := func(w io.Writer) error {
		m.TestsErr = coverage.MergeJUnit(junits, w)
		if errors.Is(m.TestsErr, coverage.ErrTestsFailed) {
			return nil
		}
		return m.TestsErr
	}
	if junit == "" {
		err = merge(io.Discard)
	} else {
		err = coverage.WriteFile(resolve(dir, junit), merge)
	}
	if err != nil {
		return nil, err
	}
	merged := coverage.MergeTimings(ts...)
	if isRegistry(timings) {
		doc, err := json.Marshal(merged)
		if err != nil {
			return nil, err
		}
		return m, recordsOf(timings, "timings", client).write(ctx, doc)
	}
	return m, coverage.WriteTimings(resolve(dir, cmp.Or(timings, DefaultTimings)), merged)
}

// lcovFiles are the lcov tracefiles under dirs: *.info and *.lcov, in order.
func lcovFiles(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() && (strings.HasSuffix(path, ".info") || strings.HasSuffix(path, ".lcov")) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadLcov reads and adds up lcov tracefiles (relative to dir), without the files that exclude's globs
// match.
func ReadLcov(dir string, paths, exclude []string) (*coverage.LcovReport, error) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i] = resolve(dir, p)
	}
	r, err := coverage.ReadLcovs(abs...)
	if err != nil {
		return nil, err
	}
	return r.Exclude(exclude...)
}
