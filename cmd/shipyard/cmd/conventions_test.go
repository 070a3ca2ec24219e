package cmd

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The conventions that hold for every command (PRODUCT.md, "Conventions"), each as a fresh clone broke it.

func TestMissingDirectoryIsAUsageError(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "nope"), writeTemp(t, "a-file")} {
		r := cli(t, dir, nil, "version", "current")
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "-C: "+dir+" is not a directory")
	}
}

func TestMisspeltVariable(t *testing.T) {
	r := cli(t, t.TempDir(), map[string]string{"SHIPYARD_TEST_MIN_TOTL": "90"}, "version", "current")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "SHIPYARD_TEST_MIN_TOTL: unknown variable, which no configuration key has (did you mean SHIPYARD_TEST_MIN_TOTAL?)")
}

// TestDatabasePrecedenceCLI: flag > SHIPYARD_MIGRATE_DATABASE > DATABASE_URL > shipyard.yaml; the
// database that was migrated is the one whose file appears.
func TestDatabasePrecedenceCLI(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"the file", nil, nil, "file.db"},
		{"DATABASE_URL beats the file", map[string]string{"DATABASE_URL": "sqlite://url.db"}, nil, "url.db"},
		{"SHIPYARD_MIGRATE_DATABASE beats DATABASE_URL", map[string]string{"DATABASE_URL": "sqlite://url.db", "SHIPYARD_MIGRATE_DATABASE": "sqlite://shipyard.db"}, nil, "shipyard.db"},
		{"the flag beats all", map[string]string{"DATABASE_URL": "sqlite://url.db", "SHIPYARD_MIGRATE_DATABASE": "sqlite://shipyard.db"}, []string{"--database", "sqlite://flag.db"}, "flag.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte("migrate:\n  database: sqlite://file.db\n"), 0o644))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "migrations"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "1_a.up.sql"), []byte("CREATE TABLE a (id INTEGER);\n"), 0o644))
			r := cli(t, dir, tc.env, append([]string{"migrate", "up"}, tc.args...)...)
			require.Equal(t, 0, r.code, r.stderr)
			for _, db := range []string{"file.db", "url.db", "shipyard.db", "flag.db"} {
				if db == tc.want {
					assert.FileExists(t, filepath.Join(dir, db))
				} else {
					assert.NoFileExists(t, filepath.Join(dir, db))
				}
			}
		})
	}
}

// writeTemp writes a file with the given content in a new directory and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// TestBuildOutputIsTheFormat: --output and -o mean the output format for build too, before or after the
// command; the image's destination is --dest.
func TestBuildOutputIsTheFormat(t *testing.T) {
	dir := helloProject(t)
	for _, args := range [][]string{
		{"--output", "json", "build", "--app-version", "1.0.0"},
		{"build", "-o", "json", "--app-version", "1.0.0", "--dest", "tar:hello.tar"},
	} {
		r := cli(t, dir, goEnv(nil), args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stdout, `"digest": "sha256:`, args)
	}
	assert.FileExists(t, filepath.Join(dir, "hello.tar"))
}

// TestBrokenGoModIsAnInputError: test, build, init and audit name go.mod's line and exit 2 instead of
// reporting failed tests or the go command's exit status.
func TestBrokenGoModIsAnInputError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/bad\n\ngo 1.22\n\nrequire example.com/a\n"), 0o644))
	for _, args := range [][]string{{"test"}, {"build"}, {"init", "--print"}, {"audit", "--vuln-db", "off"}} {
		r := cli(t, dir, goEnv(map[string]string{"GOPROXY": "off"}), args...)
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "go.mod:5: usage: require module/path v1.2.3", args)
		assert.NotContains(t, r.stderr, "exit status", args)
		assert.NotContains(t, r.stderr, "tests failed", args)
	}
}

// TestPasswordStdinReadOnce: build --base REF --push REF makes two registry clients, and both have the
// password that --password-stdin read once.
func TestPasswordStdinReadOnce(t *testing.T) {
	r := protectedRegistry(t)
	dir := helloProject(t)
	env := goEnv(map[string]string{"DOCKER_CONFIG": t.TempDir()})
	auth := []string{"--ca-cert", r.CACert, "-u", registrytest.User, "--password-stdin"}
	res := executeWithStdin(context.Background(), t, dir, env, false, registrytest.Password+"\n",
		append([]string{"build", "--app-version", "1.0.0", "--push", r.Host + "/base:1"}, auth...)...)
	require.Equal(t, 0, res.code, res.stderr)
	res = executeWithStdin(context.Background(), t, dir, env, false, registrytest.Password+"\n",
		append([]string{"build", "--app-version", "1.0.1", "--base", r.Host + "/base:1", "--push", r.Host + "/hello:1.0.1"}, auth...)...)
	require.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stderr, registrytest.Password)
}

// TestProgressBarsStop: with a terminal, no progress bar goroutine outlives its command, whether the
// registry client failed to open or a build pulled its base and pushed.
func TestProgressBarsStop(t *testing.T) {
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err)
	defer s.Close()
	dir := helloProject(t)
	layoutDir, _ := registrytest.Image(t, 1024, 1)
	res := execute(context.Background(), t, dir, goEnv(nil), true, "push", layoutDir, s.Host()+"/x:1", "--client-cert", "missing.pem", "--client-key", "missing.pem")
	require.Equal(t, 2, res.code, res.stderr)
	assert.Zero(t, progressBars(), "after a client that failed to open")

	res = execute(context.Background(), t, dir, goEnv(nil), true, "build", "--app-version", "1.0.0", "--push", s.Host()+"/base:1")
	require.Equal(t, 0, res.code, res.stderr)
	res = execute(context.Background(), t, dir, goEnv(nil), true, "build", "--app-version", "1.0.1", "--base", s.Host()+"/base:1", "--push", s.Host()+"/hello:1.0.1")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Zero(t, progressBars(), "after a build with a base and a push")
}

// progressBars counts the goroutines running a progress bar, once they had a moment to end.
func progressBars() int {
	n := 0
	for range 50 {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if n = strings.Count(stacks, "progress.Bar.func"); n == 0 {
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return n
}
