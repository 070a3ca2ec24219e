package coverage

import (
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Timings are how long packages and their top-level tests took (seconds), from `go test -json`: what
// balances the shards of the next run.
type Timings struct {
	Packages map[string]float64            `json:"packages"`
	Tests    map[string]map[string]float64 `json:"tests,omitempty"`
}

// Timings are the recorded run's: each package's elapsed time and its top-level tests'. A package run
// in parts (a split package) adds up. A result go test took from its cache replays its tests' times
// but reports the package as quick, so a package takes at least as long as its tests.
func (r *TestRecorder) Timings() Timings {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := Timings{Packages: map[string]float64{}, Tests: map[string]map[string]float64{}}
	for _, pkg := range r.packages {
		inTests := 0.0
		for _, tc := range pkg.tests {
			if strings.Contains(tc.name, "/") {
				continue
			}
			if t.Tests[pkg.name] == nil {
				t.Tests[pkg.name] = map[string]float64{}
			}
			t.Tests[pkg.name][tc.name] = tc.elapsed
			inTests += tc.elapsed
		}
		t.Packages[pkg.name] += max(pkg.elapsed, inTests)
	}
	return t
}

// MergeTimings adds up the timings of shards: a package split across shards took the sum of its parts.
func MergeTimings(ts ...Timings) Timings {
	out := Timings{Packages: map[string]float64{}, Tests: map[string]map[string]float64{}}
	for _, t := range ts {
		for p, s := range t.Packages {
			out.Packages[p] += s
		}
		for p, tests := range t.Tests {
			if out.Tests[p] == nil {
				out.Tests[p] = map[string]float64{}
			}
			for name, s := range tests {
				out.Tests[p][name] = s
			}
		}
	}
	return out
}

// ReadTimings reads a timings file; one that does not exist is no history.
func ReadTimings(path string) (Timings, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Timings{}, nil
	}
	if err != nil {
		return Timings{}, err
	}
	var t Timings
	if err := json.Unmarshal(data, &t); err != nil {
		return Timings{}, &InputError{Err: fmt.Errorf("%s is not a timings file: %v", path, err)}
	}
	return t, nil
}

// WriteTimings writes timings to path, whole or not at all.
func WriteTimings(path string, t Timings) error {
	return WriteFile(path, func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(t)
	})
}

// ShardID is shard K of N (1 ≤ K ≤ N).
type ShardID struct{ K, N int }

// ParseShard reads K/N.
func ParseShard(s string) (ShardID, error) {
	k, n, ok := strings.Cut(s, "/")
	ki, kerr := strconv.Atoi(k)
	ni, nerr := strconv.Atoi(n)
	if !ok || kerr != nil || nerr != nil || ni < 1 || ki < 1 || ki > ni {
		return ShardID{}, &InputError{Option: "coverage.Shard", Err: fmt.Errorf("%q is not a shard: K/N, 1 ≤ K ≤ N (2/4)", s)}
	}
	return ShardID{K: ki, N: ni}, nil
}

// Name is the shard's name in its files: shard-K-of-N.
func (s ShardID) Name() string { return fmt.Sprintf("shard-%d-of-%d", s.K, s.N) }

// Part is one go test invocation of a shard: packages, and for a package split by its tests, the
// -run or -skip pattern of its share.
type Part struct {
	Packages []string `json:"packages"`
	Run      string   `json:"run,omitempty"`
	Skip     string   `json:"skip,omitempty"`
}

// Shard is what one shard runs, and how long the history says it takes.
type Shard struct {
	ShardID
	Parts    []Part
	Estimate float64
}

// unit is what the planner places: a package, or a share of a split package's tests.
type unit struct {
	pkg    string
	tests  []string // a test share of a split package; nil for a whole package
	rest   bool     // the share of a split package that runs every test not placed elsewhere
	weight float64
}

// PlanShards splits pkgs into n shards balanced by the timings (the longest first, each to the least
// loaded shard). A package longer than a shard's share is split by its recorded top-level tests; one of
// its shares runs with -skip of the others' tests, so that a test the history does not know runs too.
// Every test runs in exactly one shard whatever the history says; without history the split is stable,
// by name.
func PlanShards(pkgs []string, t Timings, n int) []Shard {
	known, sum := 0, 0.0
	for _, p := range pkgs {
		if s, ok := t.Packages[p]; ok {
			known++
			sum += s
		}
	}
	guess := 1.0 // with no history every package weighs the same
	if known > 0 {
		guess = sum / float64(known)
	}
	var units []unit
	total := 0.0
	weights := map[string]float64{}
	for _, p := range pkgs {
		w, ok := t.Packages[p]
		if !ok {
			w = guess
		}
		weights[p] = w
		total += w
	}
	share := total / float64(n)
	for _, p := range pkgs {
		w := weights[p]
		tests := t.Tests[p]
		if n == 1 || w <= share || len(tests) < 2 {
			units = append(units, unit{pkg: p, weight: w})
			continue
		}
		// Split: each recorded test a unit of its own time; the rest (setup, unknown tests) one more.
		names := slices.Sorted(maps.Keys(tests))
		inTests := 0.0
		for _, name := range names {
			units = append(units, unit{pkg: p, tests: []string{name}, weight: tests[name]})
			inTests += tests[name]
		}
		units = append(units, unit{pkg: p, rest: true, weight: max(w-inTests, 0)})
	}
	slices.SortStableFunc(units, func(a, b unit) int {
		if c := cmp.Compare(b.weight, a.weight); c != 0 {
			return c
		}
		return cmp.Compare(a.pkg, b.pkg)
	})
	shards := make([]Shard, n)
	placed := make([][]unit, n)
	for i := range shards {
		shards[i].ShardID = ShardID{K: i + 1, N: n}
	}
	for _, u := range units {
		i := 0
		for j := range shards {
			if shards[j].Estimate < shards[i].Estimate {
				i = j
			}
		}
		shards[i].Estimate += u.weight
		placed[i] = append(placed[i], u)
	}
	for i := range shards {
		shards[i].Parts = parts(placed[i], placed)
	}
	return shards
}

// parts groups a shard's units into go test invocations: its whole packages in one, each split
// package's share in its own.
func parts(mine []unit, all [][]unit) []Part {
	var whole []string
	shares := map[string][]string{}
	rest := map[string]bool{}
	for _, u := range mine {
		switch {
		case u.rest:
			rest[u.pkg] = true
		case u.tests != nil:
			shares[u.pkg] = append(shares[u.pkg], u.tests...)
		default:
			whole = append(whole, u.pkg)
		}
	}
	var out []Part
	if len(whole) > 0 {
		slices.Sort(whole)
		out = append(out, Part{Packages: whole})
	}
	split := slices.Sorted(maps.Keys(shares))
	for p := range rest {
		if _, ok := shares[p]; !ok {
			split = append(split, p)
		}
	}
	slices.Sort(split)
	for _, p := range split {
		if rest[p] {
			// Everything but the tests other shards run: this shard's own tests and any new ones.
			var elsewhere []string
			for _, units := range all {
				for _, u := range units {
					if u.pkg == p && u.tests != nil && !slices.Contains(shares[p], u.tests[0]) {
						elsewhere = append(elsewhere, u.tests...)
					}
				}
			}
			part := Part{Packages: []string{p}}
			if len(elsewhere) > 0 {
				part.Skip = anyOf(elsewhere)
			}
			out = append(out, part)
			continue
		}
		out = append(out, Part{Packages: []string{p}, Run: anyOf(shares[p])})
	}
	return out
}

// anyOf is the -run pattern of exactly these top-level tests.
func anyOf(tests []string) string {
	q := make([]string, len(tests))
	for i, t := range slices.Sorted(slices.Values(tests)) {
		q[i] = regexp.QuoteMeta(t)
	}
	return "^(" + strings.Join(q, "|") + ")$"
}

// ListPackages lists the import paths the patterns match in dir, as go test would run them.
func ListPackages(ctx context.Context, dir string, patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-e", "-f", "{{if not .Error}}{{.ImportPath}}{{end}}"}, patterns...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("listing the packages to test: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("listing the packages to test: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// ShardFiles are where a shard's run is kept: its profile, JUnit results and timings.
type ShardFiles struct{ Profile, JUnit, Timings string }

// FilesOf are the files of shard id under dir.
func FilesOf(dir string, id ShardID) ShardFiles {
	base := filepath.Join(dir, id.Name())
	return ShardFiles{Profile: base + ".cover.out", JUnit: base + ".junit.xml", Timings: base + ".timings.json"}
}

// RunShard runs each part of the shard with go test -json (g's directory, -coverpkg, flags and
// output), and writes the shard's merged profile, JUnit and timings under dir. testsErr says tests
// failed; what ran is written all the same.
func RunShard(ctx context.Context, g GoTest, s Shard, dir string) (files ShardFiles, testsErr, err error) {
	files = FilesOf(dir, s.ShardID)
	tmp, err := os.MkdirTemp("", "shipyard-shard-")
	if err != nil {
		return files, nil, err
	}
	defer os.RemoveAll(tmp)
	rec := NewTestRecorder(g.Stdout)
	var profiles []*Profile
	for i, part := range s.Parts {
		run := g
		run.Packages, run.Stdout = part.Packages, rec
		run.Profile = filepath.Join(tmp, fmt.Sprintf("part-%d.out", i))
		run.Args = append([]string{"-json"}, g.Args...)
		if part.Run != "" {
			run.Args = append(run.Args, "-run", part.Run)
		}
		if part.Skip != "" {
			run.Args = append(run.Args, "-skip", part.Skip)
		}
		if err := run.Run(ctx); err != nil {
			if !errors.Is(err, ErrTestsFailed) {
				return files, nil, err
			}
			testsErr = err
		}
		p, err := ReadProfile(run.Profile)
		if errors.Is(err, fs.ErrNotExist) {
			continue // nothing built: the failure is in the results
		}
		if err != nil {
			return files, nil, err
		}
		profiles = append(profiles, p)
	}
	if len(profiles) == 0 {
		profiles = append(profiles, &Profile{Mode: "atomic"})
	}
	merged, err := Merge(profiles...)
	if err != nil {
		return files, nil, err
	}
	if err := WriteFile(files.Profile, merged.Write); err != nil {
		return files, nil, err
	}
	if err := WriteFile(files.JUnit, rec.WriteJUnit); err != nil {
		return files, nil, err
	}
	return files, testsErr, WriteTimings(files.Timings, rec.Timings())
}

// ShardsIn finds the shards' files in dirs: every shard-*.cover.out, with the JUnit and timings files
// beside it.
func ShardsIn(dirs []string) ([]ShardFiles, error) {
	var out []ShardFiles
	for _, d := range dirs {
		matches, err := filepath.Glob(filepath.Join(d, "shard-*-of-*.cover.out"))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			base := strings.TrimSuffix(m, ".cover.out")
			out = append(out, ShardFiles{Profile: m, JUnit: base + ".junit.xml", Timings: base + ".timings.json"})
		}
	}
	if len(out) == 0 {
		return nil, &InputError{Err: fmt.Errorf("no shard's profile (shard-K-of-N.cover.out) in %s", strings.Join(dirs, ", "))}
	}
	return out, nil
}

// MergeJUnit merges JUnit files into one: the suites of a package split across shards become one. It
// returns ErrTestsFailed, after writing, when a test failed or a package did not build.
func MergeJUnit(paths []string, w io.Writer) error {
	out := junitSuites{}
	byName := map[string]int{}
	total := 0.0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		var in junitSuites
		if err := xml.Unmarshal(data, &in); err != nil {
			return &InputError{Err: fmt.Errorf("%s is not JUnit XML: %v", p, err)}
		}
		for _, s := range in.Suites {
			i, ok := byName[s.Name]
			if !ok {
				byName[s.Name] = len(out.Suites)
				out.Suites = append(out.Suites, s)
				continue
			}
			m := &out.Suites[i]
			m.Tests, m.Failures, m.Errors, m.Skipped = m.Tests+s.Tests, m.Failures+s.Failures, m.Errors+s.Errors, m.Skipped+s.Skipped
			m.Time = seconds(parseSeconds(m.Time) + parseSeconds(s.Time))
			m.Cases = append(m.Cases, s.Cases...)
		}
	}
	slices.SortFunc(out.Suites, func(a, b junitSuite) int { return cmp.Compare(a.Name, b.Name) })
	for _, s := range out.Suites {
		out.Tests, out.Failures, out.Errors, out.Skipped = out.Tests+s.Tests, out.Failures+s.Failures, out.Errors+s.Errors, out.Skipped+s.Skipped
		total += parseSeconds(s.Time)
	}
	out.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	e := xml.NewEncoder(w)
	e.Indent("", "  ")
	if err := e.Encode(out); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	if out.Failures+out.Errors > 0 {
		return fmt.Errorf("%d of the shards' tests failed: %w", out.Failures+out.Errors, ErrTestsFailed)
	}
	return nil
}

func parseSeconds(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}
