// Package testenv tells tests where the repository's own test data is and whether a peer tool is here.
// Under CI=true a missing peer tool fails the test instead of skipping it, so that a green CI cannot hide
// a missing install step.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Root is the repository's root directory, found from this file's own place in it.
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// VulnDB is the file:// URL of the committed snapshot of the Go vulnerability database
// (testdata/vulndb-go), which every test that needs vulnerability data reads.
func VulnDB(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(t), "testdata", "vulndb-go")
	if _, err := os.Stat(filepath.Join(dir, "index", "modules.json")); err != nil {
		t.Fatalf("the snapshot of the Go vulnerability database is missing: %v", err)
	}
	return "file://" + filepath.ToSlash(dir)
}

// CI reports whether the tests run in CI (CI=true, as GitHub Actions and .ci/run set it).
func CI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Tool is the path of the named program. When it is not installed the test is skipped with the hint
// (how to install it), or fails under CI.
func Tool(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed ("+hint+")")
	}
	return path
}

// Missing skips the test for want of a peer tool or service, or fails it under CI.
func Missing(t testing.TB, why string) {
	t.Helper()
	if CI() {
		t.Fatal(why + "; CI must install it")
		return
	}
	t.Skip(why)
}

var (
	staticOnce sync.Once
	staticPath string
	staticErr  error
)

// StaticShipyard is a shipyard binary that can go in an image (CGO_ENABLED=0, linux), built once per
// test process from this repository into its .shipyard/test (ignored by git, rebuilt in place): the
// test binary itself, built with -race and so with cgo, cannot.
func StaticShipyard(t testing.TB) string {
	t.Helper()
	staticOnce.Do(func() {
		staticPath = filepath.Join(Root(t), ".shipyard", "test", "shipyard-static")
		tmp := fmt.Sprintf("%s.%d", staticPath, os.Getpid()) // renamed over the last one: test processes run at once
		cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "./cmd/shipyard")
		cmd.Dir = Root(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			staticErr = fmt.Errorf("building a static shipyard: %v\n%s", err, out)
			return
		}
		staticErr = os.Rename(tmp, staticPath)
	})
	if staticErr != nil {
		t.Fatal(staticErr)
	}
	return staticPath
}
