package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
)

// TestPipelineEndToEnd: on a fresh clone of examples/hello, shipyard pipeline leaves an image in the
// embedded registry, a version tag, release v1 of staging and the migrations applied; after a feat:
// commit the next run gives the next minor version and v2; a rollback gives v3 with v1's digest.
func TestPipelineEndToEnd(t *testing.T) {
	dir := helloProject(t)
	env := commitAll(t, dir, "main", "feat: hello")
	env["GOPROXY"], env["SHIPYARD_AUDIT_VULN_DB"] = "off", testenv.VulnDB(t)
	git := func(args ...string) string { return gitRun(t, dir, env, args...) }

	// summary is the version of a run and its stages' statuses, in order.
	summary := func(r result) (string, string) {
		var s struct {
			Version string
			Stages  []struct{ Stage, Status string }
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
		var stages []string
		for _, st := range s.Stages {
			stages = append(stages, st.Stage+"="+st.Status)
		}
		return s.Version, strings.Join(stages, " ")
	}
	// The embedded registry's address is registry serve's, 127.0.0.1:5000, by default; a free port here.
	addr := fmt.Sprintf("127.0.0.1:%d", registrytest.FreePort(t))
	r := cli(t, dir, env, "-o", "json", "pipeline", "--registry-addr", addr)
	require.Equal(t, 0, r.code, r.stderr)
	version, stages := summary(r)
	assert.Equal(t, "0.1.0", version)
	assert.Equal(t, "test=ok audit=ok build=ok version=ok release=ok migrate=ok", stages)
	assert.Equal(t, "v0.1.0", git("tag"))
	r = cli(t, dir, env, "migrate", "status")
	assert.Contains(t, r.stdout, "(clean)")
	assert.NotContains(t, r.stdout, "pending")

	git("commit", "-q", "--allow-empty", "-m", "feat: greet louder")
	r = cli(t, dir, env, "-o", "json", "pipeline", "--registry-addr", addr)
	require.Equal(t, 0, r.code, r.stderr)
	version, _ = summary(r)
	assert.Equal(t, "0.2.0", version, "a feat: commit gives the next minor version")

	r = cli(t, dir, env, "-o", "json", "release", "list", "--env", "staging")
	require.Equal(t, 0, r.code, r.stderr)
	var list struct {
		Releases []struct{ Name, Digest, Version string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list.Releases, 2)
	assert.Equal(t, "v2", list.Releases[0].Name)
	assert.Equal(t, "0.2.0", list.Releases[0].Version)
	v1 := list.Releases[1]

	// The releases name the images at the embedded registry's stable address. The rollback serves the
	// project's registry data there again to move the environment's tag, as the pipeline did.
	var rec struct{ Image string }
	r = cli(t, dir, env, "-o", "json", "release", "show", "v1", "--env", "staging")
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rec))
	assert.True(t, strings.HasPrefix(rec.Image, addr+"/hello@sha256:"), rec.Image)
	r = cli(t, dir, env, "-o", "json", "release", "rollback", "--env", "staging")
	require.Equal(t, 0, r.code, r.stderr)
	var v3 struct{ Name, Digest string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v3))
	assert.Equal(t, "v3", v3.Name)
	assert.Equal(t, v1.Digest, v3.Digest, "v3 points at v1's build")

	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: addr, Root: filepath.Join(dir, ".shipyard", "registry")})
	require.NoError(t, err)
	defer s.Close()
	client, err := registry.New(registry.Options{})
	require.NoError(t, err)
	tags, err := client.Tags(context.Background(), registrytest.Repo(t, s.Host()+"/hello"))
	require.NoError(t, err)
	assert.Contains(t, tags, "0.1.0")
	assert.Contains(t, tags, "0.2.0")
	staging, err := client.Digest(context.Background(), registrytest.Ref(t, s.Host()+"/hello:staging"))
	require.NoError(t, err)
	assert.Equal(t, v1.Digest, staging, "the environment's tag moved to v1's build")

	// With the registry serving, a pipeline run pushes into it.
	git("commit", "-q", "--allow-empty", "-m", "fix: typo")
	r = cli(t, dir, env, "pipeline", "--stages", "build", "--registry-addr", addr)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "pushing to the registry already serving on "+addr)
}

// TestPipelineStopsAtTheFirstFailure: a failing stage ends the run with its exit code, the later stages
// skipped, and the summary under GitHub Actions says so.
func TestPipelineStopsAtTheFirstFailure(t *testing.T) {
	dir := helloProject(t)
	env, _, summaryFile := actionsEnv(t)
	for k, v := range goEnv(map[string]string{"SHIPYARD_TEST_MIN_TOTAL": "100"}) {
		env[k] = v
	}
	r := cli(t, dir, env, "pipeline", "--stages", "test,build,migrate", "--registry-addr", fmt.Sprintf("127.0.0.1:%d", registrytest.FreePort(t)))
	assert.Equal(t, 1, r.code, "shipyard test's exit code")
	assert.Regexp(t, `(?m)^test +failed .* exit 1\nbuild +skipped .*\nmigrate +skipped`, r.stdout)
	assert.Contains(t, readFile(t, summaryFile), "| test | failed |")
	assert.Contains(t, r.stderr, "::group::shipyard pipeline: test")

	r = cli(t, dir, env, "pipeline", "--stages", "test,deploy")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--stages: "deploy" is not one of test, audit, build, version, release, migrate`)
}

// TestPipelineSkipsStagesWithoutInput: outside git the stages that need a version are skipped, and so is
// migrate without its migrations directory, each with its reason; the others run and the pipeline passes.
func TestPipelineSkipsStagesWithoutInput(t *testing.T) {
	dir := helloProject(t)
	env := goEnv(map[string]string{"GOPROXY": "off", "SHIPYARD_AUDIT_VULN_DB": testenv.VulnDB(t), "SHIPYARD_MIGRATE_DIR": "db/migrations"})
	r := cli(t, dir, env, "-o", "json", "pipeline", "--registry-addr", fmt.Sprintf("127.0.0.1:%d", registrytest.FreePort(t)))
	require.Equal(t, 0, r.code, r.stderr)
	var s struct {
		Stages []struct{ Stage, Status, Detail string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	var got []string
	for _, st := range s.Stages {
		got = append(got, st.Stage+"="+st.Status+" "+st.Detail)
	}
	require.Len(t, got, 6)
	assert.Regexp(t, `^test=ok \d+\.\d% coverage$`, got[0])
	assert.Equal(t, "audit=ok 0 vulnerabilities (0 failing at low), 0 outdated", got[1])
	assert.Equal(t, []string{
		"build=skipped not a git repository (git init and commit for a version)",
		"version=skipped not a git repository (git init and commit for a version)",
		"release=skipped not a git repository (git init and commit for a version)",
		"migrate=skipped no db/migrations/ directory",
	}, got[2:])
	assert.NotContains(t, r.stderr, "embedded registry on", "nothing to push: no registry started")
}

// TestPipelineTakenAddress: when something that is not a registry holds the embedded registry's address,
// the pipeline takes a free port, says so, and pushes there.
func TestPipelineTakenAddress(t *testing.T) {
	dir := helloProject(t)
	env := commitAll(t, dir, "main", "feat: hello")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	taken := ln.Addr().String()
	env["SHIPYARD_PIPELINE_REGISTRY_ADDR"] = taken
	r := cli(t, dir, env, "-o", "json", "pipeline", "--stages", "build")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, taken+" is taken: the embedded registry takes a free port")
	var s struct {
		Stages []struct{ Stage, Status, Detail string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	require.Len(t, s.Stages, 1)
	assert.Regexp(t, `^127\.0\.0\.1:\d+/hello:0\.1\.0$`, s.Stages[0].Detail)
	assert.NotContains(t, s.Stages[0].Detail, taken)
}

// commitAll makes dir a git repository on branch with everything in one commit, and returns the
// environment the commit was made in (the go command's, and a committer).
func commitAll(t *testing.T, dir, branch, message string) map[string]string {
	t.Helper()
	env := goEnv(map[string]string{"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
	for _, args := range [][]string{{"init", "-q", "-b", branch}, {"add", "-A"}, {"commit", "-q", "-m", message}} {
		gitRun(t, dir, env, args...)
	}
	return env
}

// gitRun runs git in dir with exactly env and returns its output, trimmed.
func gitRun(t *testing.T, dir string, env map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}
