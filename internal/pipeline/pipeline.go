// Package pipeline runs the delivery in order, in one process: test, audit, build and push, version tag,
// release, migrate. Each stage calls its capability's library entry point with the settings of
// shipyard.yaml and returns a typed result, which the CLI renders as the summary, the JSON and the
// GitHub step summary (goreleaser's internal/pipeline orders its pipes the same way).
package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/gitx"
	"github.com/shipyardci/shipyard/internal/usererr"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/semver"
)

// Names are the stages, in the order they run.
var Names = []string{"test", "audit", "build", "version", "release", "migrate"}

// Options are one run: the project, its configuration, and what the stages need from the caller.
type Options struct {
	Dir    string
	Config config.Config
	// Stages are the names of the stages to run (Names when empty); they run in the pipeline's order.
	Stages []string
	// Env is the environment the release is for; Registry the host the build pushes to.
	Env, Registry string
	Getenv        func(string) string
	Environ       []string
	ToolVersion   string
	// Output receives what the tools the stages run print (go test), Log the stages' status lines.
	Output io.Writer
	Log    *slog.Logger
	// Now is the time the release carries; By who creates it.
	Now time.Time
	By  string
	// Client opens the registry client of the build's push and of a registry release store; call done
	// when finished with it.
	Client func() (c *registry.Client, done func(), err error)
}

// Stage is one step of the delivery.
type Stage struct {
	Name string
	// Skip says why the stage has nothing to work on in this run ("" when it has).
	Skip func(*State) string
	Run  func(context.Context, *State) (Result, error)
}

// Result is a stage's typed outcome.
type Result interface {
	// Detail is the stage's line in the summary.
	Detail() string
}

// State is what the stages share: the options, the version of the run, and what earlier stages made.
type State struct {
	Options
	// Version is the run's next version (semver.Next), Next how it was computed.
	Version string
	Next    *semver.Result
	InGit   bool
	// Build is the build stage's result, for the release stage.
	Build *BuildResult
}

// Status is how a stage ended.
type Status string

// The statuses of a stage.
const (
	OK      Status = "ok"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// StageReport is a stage's line of the run's report.
type StageReport struct {
	Stage    string        `json:"stage"`
	Status   Status        `json:"status"`
	Duration time.Duration `json:"duration_ns"`
	Detail   string        `json:"detail,omitempty"`
	Result   Result        `json:"result,omitempty"`
	// Err is why the stage failed.
	Err error `json:"-"`
}

// Report is a run: its version and its stages, in order.
type Report struct {
	Version string        `json:"version"`
	Stages  []StageReport `json:"stages"`
}

// Err is the first failed stage's error, nil when none failed.
func (r *Report) Err() error {
	for _, s := range r.Stages {
		if s.Err != nil {
			return s.Err
		}
	}
	return nil
}

// Hooks let the caller follow a run: Start before a stage runs, End after it ran or was skipped.
type Hooks struct {
	Start func(stage string)
	End   func(StageReport)
}

// Run runs the stages the options name, in order, and stops at the first that fails: the stages after it
// are reported skipped. The error is the failed stage's; the report is complete either way.
func Run(ctx context.Context, o Options, hooks Hooks) (*Report, error) {
	if len(o.Stages) == 0 {
		o.Stages = Names
	}
	if err := CheckStages(o.Stages); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Output == nil {
		o.Output = io.Discard
	}
	st := &State{Options: o}
	st.InGit = hasCommit(ctx, o.Dir)
	if st.InGit {
		next, err := NextVersion(ctx, o.Dir, o.Config.Version)
		if err != nil {
			return nil, err
		}
		st.Next, st.Version = next, next.Version.String()
	}
	report := &Report{Version: st.Version}
	var failed error
	for _, stage := range Stages() {
		if !slices.Contains(o.Stages, stage.Name) {
			continue
		}
		r := StageReport{Stage: stage.Name, Status: Skipped}
		switch why := stage.Skip(st); {
		case failed != nil:
			r.Detail = "an earlier stage failed"
		case why != "":
			r.Detail = why
			o.Log.Info("skipped: "+why, "stage", stage.Name)
		default:
			if hooks.Start != nil {
				hooks.Start(stage.Name)
			}
			start := time.Now()
			res, err := stage.Run(ctx, st)
			r.Status, r.Duration, r.Result, r.Err = OK, time.Since(start), res, err
			if res != nil {
				r.Detail = res.Detail()
			}
			if err != nil {
				r.Status, failed = Failed, err
			}
		}
		if hooks.End != nil {
			hooks.End(r)
		}
		report.Stages = append(report.Stages, r)
	}
	return report, failed
}

// hasCommit says whether dir is in a git repository with a commit to version.
func hasCommit(ctx context.Context, dir string) bool {
	repo, err := gitx.Open(ctx, dir)
	if err != nil {
		return false
	}
	_, err = repo.Output(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	return err == nil
}

// CheckStages makes sure that every name is a stage's.
func CheckStages(names []string) error {
	for _, s := range names {
		if !slices.Contains(Names, s) {
			return &InputError{Option: "pipeline.Stages", Err: fmt.Errorf("%q is not one of %s", s, strings.Join(Names, ", "))}
		}
	}
	return nil
}

// Stages are the stages of the pipeline, in order.
func Stages() []Stage {
	return []Stage{
		{Name: "test", Skip: needFile("go.mod"), Run: testStage},
		{Name: "audit", Skip: needFile("go.mod", "package.json"), Run: auditStage},
		{Name: "build", Skip: needGit, Run: buildStage},
		{Name: "version", Skip: needGit, Run: versionStage},
		{Name: "release", Skip: needGit, Run: releaseStage},
		{Name: "migrate", Skip: needMigrations, Run: migrateStage},
	}
}

// needFile skips a stage when the project has none of the files.
func needFile(names ...string) func(*State) string {
	return func(s *State) string {
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(s.Dir, n)); err == nil {
				return ""
			}
		}
		return "no " + strings.Join(names, " or ")
	}
}

// needGit skips the stages that need a version outside a git repository.
func needGit(s *State) string {
	if s.InGit {
		return ""
	}
	return "not a git repository (git init and commit for a version)"
}

func needMigrations(s *State) string {
	dir := MigrationsDir(s.Config.Migrate)
	if _, err := os.Stat(filepath.Join(s.Dir, dir)); err != nil {
		return "no " + dir + "/ directory"
	}
	return ""
}

// MigrationsDir is migrate.dir, "migrations" by default.
func MigrationsDir(c config.Migrate) string {
	if c.Dir == "" {
		return "migrations"
	}
	return c.Dir
}

// InputError is a pipeline setting the user has to fix: the option (Option, "pipeline.Stages"), and why.
type InputError = usererr.Error
