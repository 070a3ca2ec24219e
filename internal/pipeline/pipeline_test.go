package pipeline

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/internal/testenv"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
)

// hello is a fresh git repository of examples/hello, and the options of a run on it: an in-process
// registry, a directory of release records, the committed vulnerability database, no network.
func hello(t *testing.T, git bool) Options {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Root(t), "examples", "hello"))))
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "GOCACHE": os.Getenv("GOCACHE"),
		"GOMODCACHE": os.Getenv("GOMODCACHE"), "GOFLAGS": os.Getenv("GOFLAGS"), "GOPROXY": "off", "SOURCE_DATE_EPOCH": "1790000000",
		"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	if git {
		for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "feat: hello"}} {
			runGit(t, dir, environ, args...)
		}
	}
	srv, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	cfg := config.Config{}
	cfg.Audit.VulnDB = testenv.VulnDB(t)
	cfg.Release.Store = t.TempDir()
	return Options{Dir: dir, Config: cfg, Env: "staging", Registry: srv.Host(), Getenv: func(k string) string { return env[k] },
		Environ: environ, ToolVersion: "1.2.3", Now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), By: "ci@test",
		Client: func() (*registry.Client, func(), error) {
			c, err := registry.New(registry.Options{})
			return c, func() {}, err
		}}
}

// runGit runs git in dir with environ.
func runGit(t *testing.T, dir string, environ []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, environ
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// TestRunWithNothingToRelease: a run that creates a version pushes NAME:VERSION; a later run with
// nothing to release pushes NAME:sha-COMMIT, with git describe's version inside, and leaves the
// released tag on the image it was released with.
func TestRunWithNothingToRelease(t *testing.T) {
	o := hello(t, true)
	o.Stages = []string{"build", "version"}
	report, err := Run(context.Background(), o, Hooks{})
	require.NoError(t, err)
	first := report.Stages[0].Result.(*BuildResult)
	assert.Equal(t, o.Registry+"/hello:0.1.0", first.Ref)
	assert.True(t, report.Stages[1].Result.(*VersionResult).Tagged)

	require.NoError(t, os.WriteFile(filepath.Join(o.Dir, "NOTES.md"), []byte("notes\n"), 0o644))
	runGit(t, o.Dir, o.Environ, "add", "NOTES.md")
	runGit(t, o.Dir, o.Environ, "commit", "-q", "-m", "docs: notes")
	commit := runGit(t, o.Dir, o.Environ, "rev-parse", "HEAD")
	report, err = Run(context.Background(), o, Hooks{})
	require.NoError(t, err)
	second := report.Stages[0].Result.(*BuildResult)
	assert.Equal(t, o.Registry+"/hello:sha-"+commit[:7], second.Ref)
	assert.Equal(t, "0.1.1-dev.1+g"+commit[:7], second.Record.Version, "the version inside (version describe) says it is not the release")
	assert.Equal(t, []string{"sha-" + commit[:7]}, second.Record.Pushed.Tags)
	assert.False(t, report.Stages[1].Result.(*VersionResult).Tagged)
	assert.NotEqual(t, first.Record.Digest, second.Record.Digest)

	c, err := registry.New(registry.Options{})
	require.NoError(t, err)
	for _, tag := range []string{"0.1.0", "latest"} {
		d, err := c.Digest(context.Background(), registrytest.Ref(t, o.Registry+"/hello:"+tag))
		require.NoError(t, err)
		assert.Equal(t, first.Record.Digest, d, "%s still names the release", tag)
	}
}

// TestRunInProcess: every stage on examples/hello in this process, each with its typed result, the
// release naming the image the build pushed.
func TestRunInProcess(t *testing.T) {
	o := hello(t, true)
	var out bytes.Buffer
	o.Output = &out
	var started []string
	report, err := Run(context.Background(), o, Hooks{Start: func(s string) { started = append(started, s) }})
	require.NoError(t, err, "%s", out.String())
	assert.Equal(t, Names, started)
	assert.Equal(t, "0.1.0", report.Version)
	require.Len(t, report.Stages, 6)
	for _, s := range report.Stages {
		assert.Equal(t, OK, s.Status, s.Stage)
	}
	test := report.Stages[0].Result.(*TestResult)
	assert.Greater(t, test.Coverage, 50.0)
	assert.True(t, test.TestsPassed)
	assert.Contains(t, out.String(), "ok  \tgithub.com/shipyardci/shipyard/examples/hello", "go test's output goes to Output")
	audit := report.Stages[1].Result.(*AuditResult)
	assert.Equal(t, "low", audit.FailOn)
	assert.NotNil(t, audit.Report.VulnDB)
	built := report.Stages[2].Result.(*BuildResult)
	assert.Equal(t, o.Registry+"/hello:0.1.0", built.Ref)
	require.NotNil(t, built.Record.Pushed)
	assert.Equal(t, built.Record.Digest, built.Record.Pushed.Digest)
	version := report.Stages[3].Result.(*VersionResult)
	assert.True(t, version.Tagged)
	assert.Equal(t, "v0.1.0", version.Tag)
	rel := report.Stages[4].Result.(*ReleaseResult)
	assert.Equal(t, "v1", rel.Record.Name)
	assert.Equal(t, built.Record.Pushed.Reference.String(), rel.Record.Image)
	assert.Equal(t, "ci@test", rel.Record.CreatedBy)
	assert.Equal(t, NewestMigration(o.Dir, o.Config.Migrate), rel.Record.MigrationVersion)
	migrated := report.Stages[5].Result.(*MigrateResult)
	assert.Equal(t, rel.Record.MigrationVersion, migrated.To)
	assert.NotEmpty(t, migrated.Steps)
}

// TestRunStopsAtTheFirstFailure: a missed gate fails the test stage with its typed result, and every
// later stage is reported skipped without running.
func TestRunStopsAtTheFirstFailure(t *testing.T) {
	o := hello(t, true)
	o.Config.Test.MinTotal = 100
	o.Stages = []string{"test", "build", "migrate"}
	var ended []StageReport
	report, err := Run(context.Background(), o, Hooks{End: func(r StageReport) { ended = append(ended, r) }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "coverage below thresholds: total")
	require.Len(t, report.Stages, 3)
	assert.Equal(t, ended, report.Stages)
	assert.Equal(t, Failed, report.Stages[0].Status)
	test := report.Stages[0].Result.(*TestResult)
	require.NotEmpty(t, test.Failures)
	for _, s := range report.Stages[1:] {
		assert.Equal(t, Skipped, s.Status, s.Stage)
		assert.Equal(t, "an earlier stage failed", s.Detail)
		assert.Nil(t, s.Result)
	}
	assert.NoFileExists(t, filepath.Join(o.Dir, ".shipyard", "build.json"), "the build did not run")
	assert.ErrorIs(t, report.Err(), err)
}

// TestRunSkipsWhatHasNoInput: outside git the stages that need a version are skipped, and so is migrate
// without its directory; an unknown stage is an input error.
func TestRunSkipsWhatHasNoInput(t *testing.T) {
	o := hello(t, false)
	o.Config.Migrate.Dir = "db/migrations"
	o.Stages = []string{"build", "version", "release", "migrate"}
	report, err := Run(context.Background(), o, Hooks{})
	require.NoError(t, err)
	for _, s := range report.Stages {
		assert.Equal(t, Skipped, s.Status, s.Stage)
	}
	assert.Equal(t, "not a git repository (git init and commit for a version)", report.Stages[0].Detail)
	assert.Equal(t, "no db/migrations/ directory", report.Stages[3].Detail)

	cmd := exec.Command("git", "init", "-q", "-b", "main")
	cmd.Dir, cmd.Env = o.Dir, o.Environ
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	report, err = Run(context.Background(), o, Hooks{})
	require.NoError(t, err, "a repository with no commit yet has no version: its stages are skipped")
	assert.Equal(t, Skipped, report.Stages[0].Status)

	o.Stages = []string{"test", "deploy"}
	_, err = Run(context.Background(), o, Hooks{})
	var in *InputError
	require.ErrorAs(t, err, &in)
	assert.Equal(t, "pipeline.Stages", in.InputOption())
	assert.Equal(t, `"deploy" is not one of test, audit, build, version, release, migrate`, err.Error())
}

// TestRedeploy: after two runs, a rollback releases the first build again as v3 and moves the
// environment's tag to its digest; a promotion copies the current release to another environment.
func TestRedeploy(t *testing.T) {
	ctx := context.Background()
	o := hello(t, true)
	o.Stages = []string{"build", "version", "release"}
	first, err := Run(ctx, o, Hooks{})
	require.NoError(t, err)
	v1 := first.Stages[2].Result.(*ReleaseResult).Record
	cmd := exec.Command("git", "commit", "-q", "--allow-empty", "-m", "feat: more")
	cmd.Dir, cmd.Env = o.Dir, o.Environ
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	_, err = Run(ctx, o, Hooks{})
	require.NoError(t, err)

	d := Redeploy{Dir: o.Dir, Store: o.Config.Release.Store, By: "ci@test", Now: o.Now, Client: o.Client, Log: o.Log,
		Rollback: &release.RollbackRequest{Env: "staging"}}
	res, err := d.Release(ctx)
	require.NoError(t, err)
	assert.Equal(t, "v3", res.Record.Name)
	assert.Equal(t, "v1", res.Record.RollbackOf)
	assert.Equal(t, v1.Digest, res.Record.Digest)
	assert.Equal(t, o.Registry+"/hello:staging", res.Tag)
	c, _, err := o.Client()
	require.NoError(t, err)
	tagged, err := c.Digest(ctx, registrytest.Ref(t, res.Tag))
	require.NoError(t, err)
	assert.Equal(t, v1.Digest, tagged)

	d = Redeploy{Dir: o.Dir, Store: o.Config.Release.Store, By: "ci@test", Now: o.Now, Client: o.Client, Log: o.Log, NoTag: true,
		Promote: &release.PromoteRequest{From: "staging", To: "prod"}}
	res, err = d.Release(ctx)
	require.NoError(t, err)
	assert.Equal(t, "v1", res.Record.Name)
	assert.Equal(t, "staging/v3", res.Record.PromotedFrom)
	assert.Empty(t, res.Tag, "NoTag")
}

// TestRedeployVerifiesTheImage: a record that was resealed by someone who changed its image (another
// registry, or a digest the repository does not have) is refused as a rollback or promotion, before
// any release is created; release.repository names the repository when the newest release should not.
func TestRedeployVerifiesTheImage(t *testing.T) {
	ctx := context.Background()
	o := hello(t, true)
	o.Stages = []string{"build", "version", "release"}
	first, err := Run(ctx, o, Hooks{})
	require.NoError(t, err)
	good := first.Stages[2].Result.(*ReleaseResult).Record
	store := release.DirStore{Dir: o.Config.Release.Store}
	missing := strings.Repeat("d", 64)
	for _, image := range []string{"evil.example.com/hello@sha256:" + missing, o.Registry + "/hello@sha256:" + missing} {
		r := *good
		r.Image, r.Digest = image, "sha256:"+missing
		require.NoError(t, store.Create(ctx, &r, release.Counter), "a store takes what it is given: the check is the redeploy's")
	}
	require.NoError(t, store.Create(ctx, good, release.Counter))
	d := Redeploy{Dir: o.Dir, Store: o.Config.Release.Store, By: "ci@test", Now: o.Now, Client: o.Client, Log: o.Log, NoTag: true}
	for _, tc := range []struct {
		to, repository, want string
	}{
		{"v2", "", "release v2 of staging: its image evil.example.com/hello@sha256:" + missing + " is not in " + o.Registry + "/hello, the repository of the environment's images"},
		{"v3", "", "release v3 of staging: its image " + o.Registry + "/hello@sha256:" + missing + " cannot be found"},
		{"v1", "registry.example.com/team/hello", "is not in registry.example.com/team/hello"},
	} {
		d.Repository = tc.repository
		d.Rollback = &release.RollbackRequest{Env: "staging", To: tc.to}
		_, err := d.Release(ctx)
		var untrusted *UntrustedError
		require.ErrorAs(t, err, &untrusted, tc.to)
		assert.Contains(t, err.Error(), tc.want)
	}
	d.Repository, d.Rollback = "", &release.RollbackRequest{Env: "staging", To: "v1"}
	res, err := d.Release(ctx)
	require.NoError(t, err, "the good one rolls back")
	assert.Equal(t, "v5", res.Record.Name, "nothing was created by the refusals")

	d.Rollback, d.Promote = nil, &release.PromoteRequest{From: "staging", To: "prod", Name: "v2"}
	_, err = d.Release(ctx)
	var untrusted *UntrustedError
	require.ErrorAs(t, err, &untrusted, "promote checks too")
}
