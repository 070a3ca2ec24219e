package cmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
	"github.com/shipyardci/shipyard/internal/goproxytest"
)

// auditProject is a module with outdated, deprecated, retracted and vulnerable requirements, a file://
// GOPROXY for them, and the offline Go vulnerability database.
func auditProject(t *testing.T) (dir string, env map[string]string) {
	t.Helper()
	day := func(n int) time.Time { return time.Date(2026, 1, n, 0, 0, 0, 0, time.UTC) }
	proxy := t.TempDir()
	require.NoError(t, goproxytest.Write(proxy, map[string][]goproxytest.Version{
		"example.com/alpha":          {{Version: "v1.0.0", Time: day(1)}, {Version: "v1.1.0", Time: day(2)}, {Version: "v1.2.0", Time: day(3), GoMod: "retract v1.0.0 // panics on start\n"}},
		"example.com/alpha/v2":       {{Version: "v2.0.1", Time: day(4)}},
		"example.com/old":            {{Version: "v1.0.0", Time: day(1), Deprecated: "use example.com/alpha."}},
		"google.golang.org/protobuf": {{Version: "v1.32.0", Time: day(1)}, {Version: "v1.33.0", Time: day(2)}},
	}))
	dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/app\n\ngo 1.22\n\nrequire (\n\texample.com/alpha v1.0.0\n\texample.com/old v1.0.0\n\tgoogle.golang.org/protobuf v1.32.0 // indirect\n)\n"), 0o644))
	vulndb, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "shared", "data", "vulndb-go"))
	require.NoError(t, err)
	if _, err := os.Stat(vulndb); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Go vulnerability database at %s", vulndb)
		}
		t.Skipf("no Go vulnerability database at %s", vulndb)
	}
	return dir, map[string]string{"GOPROXY": "file://" + proxy, "SHIPYARD_AUDIT_VULN_DB": "file://" + vulndb}
}

func TestAudit(t *testing.T) {
	dir, env := auditProject(t)
	r := cli(t, dir, env, "audit")
	assert.Equal(t, 1, r.code, "an unrated vulnerability fails at the default --fail-on low: %s", r.stderr)
	golden.Assert(t, "audit.txt", []byte(r.stdout))

	r = cli(t, dir, env, "audit", "--fail-on", "none")
	assert.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, env, "audit", "--fail-on", "none", "--fail-outdated")
	assert.Equal(t, 1, r.code)

	actions, _, _ := actionsEnv(t)
	for k, v := range env {
		actions[k] = v
	}
	r = cli(t, dir, actions, "-o", "json", "audit", "--fail-on", "none")
	require.Equal(t, 0, r.code, r.stderr)
	var report struct {
		Dependencies []struct {
			Ecosystem, Name, Current, Wanted, Latest, Type, Update string
		}
		Vulnerabilities []struct {
			ID, Name, Version, Severity, Fixed string
			Aliases                            []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &report), r.stdout)
	require.Len(t, report.Dependencies, 3)
	assert.Equal(t, "major", report.Dependencies[0].Update)
	assert.Equal(t, "indirect", report.Dependencies[2].Type)
	require.NotEmpty(t, report.Vulnerabilities)
	assert.Equal(t, "GO-2024-2611", report.Vulnerabilities[0].ID)
	assert.Equal(t, "v1.33.0", report.Vulnerabilities[0].Fixed)
	assert.Contains(t, r.stderr, "::warning file=go.mod,line=6,title=example.com/alpha@v1.0.0 is retracted::panics on start")
	assert.Contains(t, r.stderr, "::warning file=go.mod,line=7,title=example.com/old is deprecated::use example.com/alpha.")
	assert.Contains(t, r.stderr, "::warning file=go.mod,line=8,title=GO-2024-2611 in google.golang.org/protobuf@v1.32.0::")
}

func TestAuditInputErrors(t *testing.T) {
	dir := t.TempDir()
	r := cli(t, dir, nil, "audit")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "no go.mod or package.json in "+dir)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n\nrequire example.com/a\n"), 0o644))
	r = cli(t, dir, nil, "audit")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "go.mod:3: usage: require module/path v1.2.3")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n"), 0o644))
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"audit", "--fail-on", "severe"}, nil, `--fail-on: "severe" is not low, moderate, high, critical or none`},
		{[]string{"audit", "--vuln-db", "ftp://x"}, map[string]string{"GOPROXY": "off"}, `--vuln-db: "ftp://x" is not an https:// or file:// URL`},
		{[]string{"audit"}, map[string]string{"GOPROXY": "gopher://x"}, `GOPROXY: "gopher://x" is not an https://, http:// or file:// URL, direct or off`},
	} {
		r := cli(t, dir, tc.env, tc.args...)
		assert.Equal(t, 2, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want)
	}
}

// TestAuditNpm: a package.json beside nothing else, its registry from .npmrc, its advisories from a
// directory of OSV files; annotations land on package.json's lines.
func TestAuditNpm(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/lodash" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"name":"lodash","dist-tags":{"latest":"4.17.21"},"versions":{"4.17.20":{},"4.17.21":{}},"time":{"4.17.20":"2020-08-13T16:53:54Z","4.17.21":"2021-02-20T15:42:16Z"}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".npmrc"), []byte("registry="+srv.URL+"/\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte("{\n  \"name\": \"app\",\n  \"dependencies\": {\n    \"lodash\": \"^4.17.0\"\n  }\n}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{"lockfileVersion":3,"packages":{"node_modules/lodash":{"version":"4.17.20"}}}`), 0o644))
	osvDir, err := filepath.Abs(filepath.Join("..", "..", "..", "audit", "testdata", "osv"))
	require.NoError(t, err)
	env, _, _ := actionsEnv(t)
	env["SHIPYARD_AUDIT_VULN_DB"] = "file://" + osvDir
	r := cli(t, dir, env, "audit", "--fail-on", "critical")
	assert.Equal(t, 0, r.code, "a high advisory passes --fail-on critical: %s", r.stderr)
	assert.Contains(t, r.stdout, "lodash   4.17.20  4.17.21  4.17.21  direct  patch")
	assert.Contains(t, r.stdout, "GHSA-35jh-r3h4-6jhm  lodash@4.17.20  high  Command Injection in lodash (fixed in 4.17.21)")
	assert.Contains(t, r.stderr, "::warning file=package.json,line=4,title=GHSA-35jh-r3h4-6jhm in lodash@4.17.20::")
	r = cli(t, dir, env, "audit", "--fail-on", "high")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "::error file=package.json,line=4,title=GHSA-35jh-r3h4-6jhm in lodash@4.17.20::")
}
