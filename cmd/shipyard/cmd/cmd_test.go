package cmd

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/iostreams"
)

// result is what one command line printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs shipyard in-process in dir with exactly the environment env (nothing of the test process's).
func cli(t *testing.T, dir string, env map[string]string, args ...string) result {
	t.Helper()
	return execute(context.Background(), t, dir, env, false, args...)
}

// execute is cli with a context, and with stdout and stderr as terminals when tty is set.
func execute(ctx context.Context, t *testing.T, dir string, env map[string]string, tty bool, args ...string) result {
	t.Helper()
	return executeWithStdin(ctx, t, dir, env, tty, "", args...)
}

// executeWithStdin is execute reading stdin from a string.
func executeWithStdin(ctx context.Context, t *testing.T, dir string, env map[string]string, tty bool, stdin string, args ...string) result {
	t.Helper()
	io, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	io.SetTerminal(tty, tty)
	getenv := func(k string) string { return env[k] }
	f := &Factory{
		IO:      io,
		Getenv:  getenv,
		Actions: ghactions.New(getenv, io.ErrOut),
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
	}
	code := Run(ctx, f, BuildInfo{Version: "1.2.3", Commit: "abc1234", Date: "2026-11-23T10:00:00Z"}, append([]string{"-C", dir}, args...))
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// actionsEnv is a GitHub Actions runner's environment with its output and summary files in a temp dir.
func actionsEnv(t *testing.T) (env map[string]string, output, summary string) {
	t.Helper()
	dir := t.TempDir()
	output, summary = filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": output, "GITHUB_STEP_SUMMARY": summary}, output, summary
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
