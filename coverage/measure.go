package coverage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"
)

// MeasureOptions say where a run's profile comes from: the tests that Test runs, or, when there are
// any, the Profiles and CoverDirs (GOCOVERDIR data) to read instead (Test and JUnit are then unused).
type MeasureOptions struct {
	Test      GoTest
	Profiles  []string
	CoverDirs []string
	// JUnit, when set, is the file go test's results go to as JUnit XML (the tests run with -json).
	JUnit string
	// Shard, when set, runs only its share of Test's packages, and keeps its files.
	Shard *ShardRun
}

// ShardRun is one shard of a suite: which, the history that balances the shards, and where its files go.
type ShardRun struct {
	ID      ShardID
	Timings string // the file of earlier runs' durations; none yet is no history
	// History, when set, reads the earlier runs' durations instead of the Timings file (a registry).
	History func(context.Context) (Timings, error)
	Dir     string
	// Plan is what the shard ran, once it ran.
	Plan Shard
}

// run plans the suite's shards from the timings and runs this one.
func (s *ShardRun) run(ctx context.Context, g GoTest) (ShardFiles, error, error) {
	history, err := ReadTimings(s.Timings)
	if s.History != nil {
		history, err = s.History(ctx)
	}
	if err != nil {
		return ShardFiles{}, nil, err
	}
	pkgs, err := ListPackages(ctx, g.Dir, g.Packages)
	if err != nil {
		return ShardFiles{}, nil, err
	}
	s.Plan = PlanShards(pkgs, history, s.ID.N)[s.ID.K-1]
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return ShardFiles{}, nil, err
	}
	return RunShard(ctx, g, s.Plan, s.Dir)
}

// Measure returns the profile of the run: the tests', or the merged profiles and coverage directories.
// testsErr says the tests failed (ErrTestsFailed); what ran is measured all the same.
func Measure(ctx context.Context, o MeasureOptions) (p *Profile, testsErr, err error) {
	profiles := o.Profiles
	if len(profiles)+len(o.CoverDirs) > 0 {
		switch {
		case o.JUnit != "":
			return nil, nil, &InputError{Option: "coverage.JUnit", Err: errors.New("recording a test run's results needs a test run: it does not go with profiles or GOCOVERDIR data")}
		case len(o.Test.Packages)+len(o.Test.Args) > 0 || o.Shard != nil:
			return nil, nil, &InputError{Err: errors.New("packages, shards and go test flags go with running the tests, not with profiles or GOCOVERDIR data")}
		}
	}
	switch {
	case o.Shard != nil:
		files, terr, err := o.Shard.run(ctx, o.Test)
		if err != nil {
			return nil, nil, err
		}
		profiles, testsErr = []string{files.Profile}, terr
		if o.JUnit != "" {
			if err := WriteFile(o.JUnit, func(w io.Writer) error { return MergeJUnit([]string{files.JUnit}, w) }); err != nil && !errors.Is(err, ErrTestsFailed) {
				return nil, nil, err
			}
		}
	case len(profiles) == 0 && len(o.CoverDirs) == 0:
		tmp, err := os.MkdirTemp("", "shipyard-cover-")
		if err != nil {
			return nil, nil, err
		}
		defer os.RemoveAll(tmp)
		g := o.Test
		g.Profile = filepath.Join(tmp, "cover.out")
		testsErr = runRecorded(ctx, g, o.JUnit)
		if testsErr != nil && !errors.Is(testsErr, ErrTestsFailed) {
			return nil, nil, testsErr
		}
		if _, err := os.Stat(g.Profile); err != nil {
			return nil, nil, testsErr // nothing was measured: the tests did not build
		}
		profiles = []string{g.Profile}
	}
	p, err = readAll(ctx, profiles, o.CoverDirs)
	return p, testsErr, err
}

// runRecorded runs the tests; with a JUnit file, in JSON, recorded there.
func runRecorded(ctx context.Context, g GoTest, junit string) error {
	if junit == "" {
		return g.Run(ctx)
	}
	rec := NewTestRecorder(g.Stdout)
	g.Stdout = rec
	g.Args = append([]string{"-json"}, g.Args...)
	err := g.Run(ctx)
	if werr := WriteFile(junit, rec.WriteJUnit); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// readAll reads and merges profiles and GOCOVERDIR directories.
func readAll(ctx context.Context, paths, coverDirs []string) (*Profile, error) {
	var profiles []*Profile
	if len(coverDirs) > 0 {
		prof, err := ReadCoverDirs(ctx, coverDirs...)
		if err != nil {
			return nil, &InputError{Option: "coverage.CoverDirs", Err: err}
		}
		profiles = append(profiles, prof)
	}
	for _, p := range paths {
		prof, err := ReadProfile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &InputError{Err: err}
		}
		if err != nil {
			return nil, err
		}
		profiles = append(profiles, prof)
	}
	p, err := Merge(profiles...)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	return p, nil
}

// Reports are the report files of a run, each "" when not asked for.
type Reports struct {
	Cobertura, Badge, HTML string
	// Now is the Cobertura report's timestamp.
	Now time.Time
}

// WriteReports writes the report files that were asked for.
func (r *Report) WriteReports(p *Profile, o Reports) error {
	if o.Cobertura != "" {
		if err := WriteFile(o.Cobertura, func(w io.Writer) error { return r.WriteCobertura(w, p, o.Now) }); err != nil {
			return err
		}
	}
	if o.Badge != "" {
		if err := WriteBadge(o.Badge, r.Total.Percent()); err != nil {
			return err
		}
	}
	if o.HTML != "" {
		return r.WriteHTML(o.HTML, p)
	}
	return nil
}

// WriteBadge writes an SVG badge of the coverage percent to path; none when path is "" (no badge asked).
func WriteBadge(path string, percent float64) error {
	if path == "" {
		return nil
	}
	return WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(Badge("coverage", percent))
		return err
	})
}

// WriteFile writes a report file atomically (a reader never sees half of it), creating its directory.
func WriteFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	t, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer t.Cleanup()
	if err := write(t); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// RunOptions are a whole run: where its profile comes from, what counts (Analyze's options), and its gate.
type RunOptions struct {
	Measure MeasureOptions
	Analyze []Option
	Gate    Gate
}

// RunResult is a measured, analysed and gated run.
type RunResult struct {
	Profile *Profile
	Report  *Report
	Gate    *GateResult
	// TestsErr says the tests failed (ErrTestsFailed); what ran was measured all the same.
	TestsErr error
}

// Err is why the run failed, the tests and the missed gates; nil when it passed.
func (r *RunResult) Err() error { return errors.Join(r.TestsErr, FailuresError(r.Gate.Failures)) }

// Run measures, analyses and gates: shipyard test without its report files.
func Run(ctx context.Context, o RunOptions) (*RunResult, error) {
	p, testsErr, err := Measure(ctx, o.Measure)
	if err != nil {
		return nil, err // nothing was measured: the tests did not build
	}
	report, err := Analyze(ctx, p, o.Analyze...)
	if err != nil {
		return nil, err
	}
	gate, err := report.Gate(ctx, p, o.Gate)
	if err != nil {
		return nil, err
	}
	return &RunResult{Profile: p, Report: report, Gate: gate, TestsErr: testsErr}, nil
}
