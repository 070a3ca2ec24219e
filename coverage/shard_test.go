package coverage

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ShardID
		err  bool
	}{
		{"1/4", ShardID{1, 4}, false}, {"4/4", ShardID{4, 4}, false}, {"1/1", ShardID{1, 1}, false},
		{"0/4", ShardID{}, true}, {"5/4", ShardID{}, true}, {"2", ShardID{}, true}, {"a/b", ShardID{}, true}, {"1/0", ShardID{}, true},
	} {
		got, err := ParseShard(tc.in)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
}

// runs counts the shards that run test of pkg, as go test's -run and -skip would decide.
func runs(shards []Shard, pkg, test string) int {
	n := 0
	for _, s := range shards {
		for _, p := range s.Parts {
			if !slices.Contains(p.Packages, pkg) {
				continue
			}
			if p.Run != "" && !regexp.MustCompile(p.Run).MatchString(test) {
				continue
			}
			if p.Skip != "" && regexp.MustCompile(p.Skip).MatchString(test) {
				continue
			}
			n++
		}
	}
	return n
}

func TestPlanShards(t *testing.T) {
	pkgs := []string{"m/a", "m/b", "m/c", "m/d", "m/e"}
	t.Run("no history: stable, by name", func(t *testing.T) {
		first := PlanShards(pkgs, Timings{}, 2)
		assert.Equal(t, first, PlanShards(pkgs, Timings{}, 2))
		assert.Equal(t, []Part{{Packages: []string{"m/a", "m/c", "m/e"}}}, first[0].Parts)
		assert.Equal(t, []Part{{Packages: []string{"m/b", "m/d"}}}, first[1].Parts)
	})
	t.Run("balanced by the timings", func(t *testing.T) {
		tm := Timings{Packages: map[string]float64{"m/a": 8, "m/b": 4, "m/c": 4, "m/d": 1, "m/e": 1}}
		s := PlanShards(pkgs, tm, 2)
		assert.Equal(t, []float64{9, 9}, []float64{s[0].Estimate, s[1].Estimate})
	})
	t.Run("a package that dominates is split by its tests", func(t *testing.T) {
		tm := Timings{Packages: map[string]float64{"m/a": 20, "m/b": 1, "m/c": 1, "m/d": 1, "m/e": 1},
			Tests: map[string]map[string]float64{"m/a": {"TestOne": 5, "TestTwo": 5, "TestThree": 5, "TestFour": 4}}}
		s := PlanShards(pkgs, tm, 4)
		for _, test := range []string{"TestOne", "TestTwo", "TestThree", "TestFour", "TestNew", "TestOne/sub"} {
			assert.Equal(t, 1, runs(s, "m/a", test), test)
		}
		for _, sh := range s {
			assert.InDelta(t, 6, sh.Estimate, 1.01)
		}
	})
}

// FuzzPlanShards: whatever the history (stale, partial, split packages), every test of every package
// runs in exactly one shard.
func FuzzPlanShards(f *testing.F) {
	f.Add(uint64(1), 4, 10)
	f.Add(uint64(7), 2, 3)
	f.Add(uint64(42), 8, 50)
	f.Fuzz(func(t *testing.T, seed uint64, n, npkg int) {
		if n < 1 || n > 16 || npkg < 1 || npkg > 60 {
			return
		}
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b9))
		tm := Timings{Packages: map[string]float64{}, Tests: map[string]map[string]float64{}}
		var pkgs []string
		actual := map[string][]string{}
		for i := range npkg {
			p := fmt.Sprintf("m/p%02d", i)
			pkgs = append(pkgs, p)
			for j := range r.IntN(6) {
				actual[p] = append(actual[p], fmt.Sprintf("Test%d", j))
			}
			if r.IntN(4) == 0 {
				continue // no history for it
			}
			tm.Packages[p] = float64(r.IntN(100)) * r.Float64()
			if r.IntN(2) == 0 {
				tm.Tests[p] = map[string]float64{}
				for j := range r.IntN(8) { // some recorded tests no longer exist, some new ones are not recorded
					tm.Tests[p][fmt.Sprintf("Test%d", j+r.IntN(2))] = r.Float64() * 10
				}
			}
		}
		shards := PlanShards(pkgs, tm, n)
		require.Len(t, shards, n)
		for _, p := range pkgs {
			for _, test := range append(actual[p], "TestUnknown") {
				if got := runs(shards, p, test); got != 1 {
					t.Fatalf("%s %s runs in %d shards", p, test, got)
				}
			}
		}
	})
}
