package cmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/testenv"

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
	// The build list comes from this proxy alone: a module cache of its own, no checksum database.
	return dir, map[string]string{"GOPROXY": "file://" + proxy, "GOSUMDB": "off", "GOMODCACHE": t.TempDir(), "GOFLAGS": "-modcacherw",
		"SHIPYARD_AUDIT_VULN_DB": testenv.VulnDB(t), "SHIPYARD_AUDIT_RUNTIME_DB": "file://" + filepath.Join(testenv.Root(t), "audit", "testdata", "runtime")}
}

func TestAudit(t *testing.T) {
	dir, env := auditProject(t)
	r := cli(t, dir, env, "audit")
	assert.Equal(t, 1, r.code, "an unrated vulnerability fails at the default --fail-on low: %s", r.stderr)
	golden.Assert(t, "audit.txt", []byte(r.stdout))
	assert.Regexp(t, `vulnerability database file://\S+/testdata/vulndb-go, modified 2026-08-21 \(\d+ days old\)`, r.stderr, "names the database and its age")

	r = cli(t, dir, env, "audit", "--fail-on", "none", "--sarif", "reports/audit.sarif")
	assert.Equal(t, 0, r.code, r.stderr)
	sarifLog := readFile(t, filepath.Join(dir, "reports", "audit.sarif"))
	assert.Contains(t, sarifLog, `"ruleId": "GO-2024-2611"`)
	assert.Contains(t, sarifLog, `"ruleId": "retracted-version"`)
	r = cli(t, dir, env, "audit", "--fail-on", "none", "--fail-outdated")
	assert.Equal(t, 1, r.code)
	r = cli(t, dir, env, "audit", "--fail-on", "none")
	assert.Equal(t, 0, r.code, "go 1.22 is past its end of life, which fails nothing by default")
	r = cli(t, dir, env, "audit", "--fail-on", "none", "--fail-on-eol")
	assert.Equal(t, 1, r.code, "--fail-on-eol")

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

// TestAuditIncomplete: a lookup that fails makes the audit incomplete, which fails whatever --fail-on,
// and says what was not checked; lookups turned off (GOPROXY=off) and --vuln-db off are said, not failed.
func TestAuditIncomplete(t *testing.T) {
	dir, env := auditProject(t)
	env["GOPROXY"] = "http://127.0.0.1:1"
	r := cli(t, dir, env, "audit", "--fail-on", "none")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "error: the audit is incomplete: the versions of 3 dependencies could not be looked up (example.com/alpha: ")
	assert.Contains(t, r.stdout, "not checked: the versions of 3 dependencies (example.com/alpha, example.com/old, google.golang.org/protobuf): the audit is incomplete")
	assert.Contains(t, r.stdout, "GO-2024-2611", "what could be checked still is")

	env["GOPROXY"] = "off"
	r = cli(t, dir, env, "audit", "--fail-on", "none")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "versions: not checked for 3 dependencies: module lookups are off (GOPROXY=off)")
	assert.NotContains(t, r.stdout, "error:")

	r = cli(t, dir, env, "audit", "--vuln-db", "off")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "vulnerabilities: not checked (the vulnerability database is off)")
	assert.NotContains(t, r.stdout, "no known vulnerabilities")
}

func TestDescribeVulnDB(t *testing.T) {
	now := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		modified time.Time
		want     string
	}{
		{time.Date(2026, 8, 21, 0, 0, 0, 0, time.UTC), "file:///db, modified 2026-08-21 (102 days old)"},
		{now.Add(-30 * time.Hour), "file:///db, modified 2026-11-30 (1 day old)"},
		{now.Add(-time.Hour), "file:///db, modified 2026-12-01 (today)"},
		{time.Time{}, "file:///db (no modification date)"},
	} {
		assert.Equal(t, tc.want, pipeline.DescribeVulnDB(&audit.VulnDBInfo{URL: "file:///db", Modified: tc.modified}, now))
	}
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

	require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte("audit:\n  ignore:\n    - name: lodash\n      versions: '<4.17.21'\n      until: 2999-01-01\n      reason: templates are never built from user input\n"), 0o644))
	r = cli(t, dir, env, "audit", "--fail-on", "high")
	assert.Equal(t, 0, r.code, "an ignored advisory fails nothing: %s", r.stderr)
	assert.Contains(t, r.stdout, "(fixed in 4.17.21)  [ignored: templates are never built from user input]")
	assert.NotContains(t, r.stderr, "GHSA-35jh-r3h4-6jhm")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte("audit:\n  ignore:\n    - name: lodash\n      until: 2020-01-01\n"), 0o644))
	r = cli(t, dir, env, "audit", "--fail-on", "high")
	assert.Equal(t, 1, r.code, "an expired rule ignores nothing")
}

// TestAuditFixBranch: audit fix on a git repository moves the outdated and the vulnerable
// requirement, one commit per group on a new branch, with a pull-request body for each.
func TestAuditFixBranch(t *testing.T) {
	day := func(n int) time.Time { return time.Date(2026, 1, n, 0, 0, 0, 0, time.UTC) }
	code := func(pkg, v string) map[string]string {
		return map[string]string{pkg + ".go": "package " + pkg + "\n\nfunc Version() string { return \"" + v + "\" }\n"}
	}
	proxy := t.TempDir()
	require.NoError(t, goproxytest.Write(proxy, map[string][]goproxytest.Version{
		"example.com/alpha": {{Version: "v1.0.0", Time: day(1), Files: code("alpha", "1.0.0")}, {Version: "v1.0.1", Time: day(2), Files: code("alpha", "1.0.1")}, {Version: "v1.1.0", Time: day(3), Files: code("alpha", "1.1.0")}},
		"example.com/beta":  {{Version: "v0.1.0", Time: day(1), Files: code("beta", "0.1.0")}, {Version: "v0.1.1", Time: day(2), Files: code("beta", "0.1.1")}},
	}))
	osvDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(osvDir, "TEST-1.json"), []byte(`{"id":"TEST-1","summary":"alpha leaks","aliases":["CVE-2026-0001"],"affected":[{"package":{"ecosystem":"Go","name":"example.com/alpha"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`), 0o644))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/app\n\ngo 1.22\n\nrequire (\n\texample.com/alpha v1.0.0\n\texample.com/beta v0.1.0\n)\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport (\n\t\"example.com/alpha\"\n\t\"example.com/beta\"\n)\n\nfunc main() { println(alpha.Version(), beta.Version()) }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(".shipyard/\n"), 0o644))
	env := map[string]string{
		"GOPROXY": "file://" + proxy, "GOSUMDB": "off", "GOFLAGS": "-modcacherw", "GOMODCACHE": t.TempDir(), "GOTOOLCHAIN": "local",
		"GOWORK": "off", "PATH": os.Getenv("PATH"), "HOME": t.TempDir(), "GOCACHE": os.Getenv("GOCACHE"),
		"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
		"SHIPYARD_AUDIT_VULN_DB": "file://" + osvDir,
	}
	if env["GOCACHE"] == "" {
		env["GOCACHE"] = filepath.Join(os.Getenv("HOME"), ".cache", "go-build")
	}
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
		return string(out)
	}
	run("go", "mod", "tidy")
	run("git", "init", "-q", "-b", "main")
	run("git", "add", "-A")
	run("git", "commit", "-q", "-m", "feat: app")

	r := cli(t, dir, env, "audit", "fix", "--level", "patch", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "would update example.com/alpha v1.0.0 → v1.0.1 [patch, go:example.com/alpha] (fixes TEST-1)\nwould update example.com/beta v0.1.0 → v0.1.1 [patch, go:example.com/beta]\n", r.stdout)
	assert.Equal(t, "", run("git", "status", "--porcelain"), "a dry run changes nothing")

	r = cli(t, dir, env, "audit", "fix", "--level", "minor", "--branch", "deps/update")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "updated example.com/alpha v1.0.0 → v1.1.0 [minor, go:example.com/alpha] (fixes TEST-1)\n")
	assert.Contains(t, r.stdout, "pull-request body: .shipyard/audit/go-example.com-alpha.md\n")
	assert.Equal(t, "build(deps): bump example.com/beta from v0.1.0 to v0.1.1\nbuild(deps): bump example.com/alpha from v1.0.0 to v1.1.0\nfeat: app\n", run("git", "log", "--format=%s"))
	assert.Equal(t, "deps/update\n", run("git", "branch", "--show-current"))
	assert.Equal(t, "", run("git", "status", "--porcelain"), "every change is committed")
	gomod := readFile(t, filepath.Join(dir, "go.mod"))
	assert.Contains(t, gomod, "example.com/alpha v1.1.0")
	assert.Contains(t, gomod, "example.com/beta v0.1.1")
	run("go", "build", "./...")
	body := readFile(t, filepath.Join(dir, ".shipyard", "audit", "go-example.com-alpha.md"))
	assert.Contains(t, body, "- **TEST-1** in example.com/alpha v1.0.0 (unknown): alpha leaks (CVE-2026-0001)")
}

func TestAuditFixInputErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n"), 0o644))
	for _, tc := range []struct {
		args []string
		yaml string
		want string
	}{
		{[]string{"audit", "fix", "--level", "huge"}, "", `--level: "huge" is not patch, minor or major`},
		{[]string{"audit", "fix", "--group", "nopatterns"}, "", `--group: "nopatterns" is not NAME=PATTERN[,PATTERN]`},
		{[]string{"audit", "fix"}, "audit:\n  ignore:\n    - name: example.com/*\n      until: next year\n", `audit.ignore: until "next year" of example.com/* is not a date (YYYY-MM-DD)`},
		{[]string{"audit", "fix"}, "audit:\n  groups:\n    - name: all\n      pattern: '*'\n", `shipyard.yaml:4: unknown key "audit.groups[0].pattern" (did you mean "patterns"?)`},
		{[]string{"audit", "fix"}, "audit:\n  allow: [patch, huge]\n", `shipyard.yaml:2: audit.allow: "huge" is not patch, minor or major`},
	} {
		os.Remove(filepath.Join(dir, "shipyard.yaml"))
		if tc.yaml != "" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte(tc.yaml), 0o644))
		}
		r := cli(t, dir, map[string]string{"GOPROXY": "off"}, tc.args...)
		assert.Equal(t, 2, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want)
	}
}

// TestAuditReachability: on a real module, govulncheck's symbol scan says what is called, with a call
// path; by default only called vulnerabilities fail, --fail-on-unreachable counts the rest, and --scan
// module looks no deeper than the build list.
func TestAuditReachability(t *testing.T) {
	for _, tc := range []struct {
		module string
		args   []string
		code   int
		reach  string
	}{
		{"websocket", nil, 1, "called"},
		{"vendored", nil, 0, "imported"},
		{"vendored", []string{"--fail-on-unreachable"}, 1, "imported"},
		{"vendored", []string{"--scan", "module"}, 1, "required"},
	} {
		t.Run(tc.module+strings.Join(tc.args, ""), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.module)
			require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Root(t), "audit", "testdata", "modules", tc.module))))
			env := map[string]string{"GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOWORK": "off", "SHIPYARD_AUDIT_VULN_DB": testenv.VulnDB(t)}
			r := cli(t, dir, env, append([]string{"-o", "json", "audit"}, tc.args...)...)
			require.Equal(t, tc.code, r.code, r.stderr)
			var report struct {
				GoScan          string `json:"go_scan"`
				Vulnerabilities []struct {
					ID, Name, Reachable string
					CallPath            []string `json:"call_path"`
				}
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &report))
			require.NotEmpty(t, report.Vulnerabilities)
			reaches := map[string]bool{}
			for _, v := range report.Vulnerabilities {
				reaches[v.Reachable] = true
				if v.Reachable == "called" {
					assert.NotEmpty(t, v.CallPath, v.ID)
				}
			}
			assert.True(t, reaches[tc.reach], "%v", reaches)
		})
	}
}
