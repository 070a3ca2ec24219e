package audit

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
	"github.com/shipyardci/shipyard/internal/goproxytest"
)

func TestPlanFix(t *testing.T) {
	deps := []Dependency{
		{Ecosystem: "go", Name: "example.com/a", Current: "v1.0.0", Versions: []string{"v1.0.0", "v1.0.1", "v1.0.2", "v1.1.0", "v1.2.0"}, File: "go.mod", Line: 5},
		{Ecosystem: "npm", Name: "left-pad", Current: "1.1.0", Versions: []string{"1.1.0", "1.1.1", "1.2.0", "2.0.0", "3.0.0-rc.1"}, Range: "^1.1.0"},
		{Ecosystem: "npm", Name: "@types/node", Current: "20.1.0", Versions: []string{"20.1.0", "20.1.5", "22.0.0"}},
		{Ecosystem: "npm", Name: "broken", Current: "1.0.0", Error: "registry down"},
	}
	vulns := []Vulnerability{
		{ID: "GO-TEST-1", Ecosystem: "go", Name: "example.com/a", Version: "v1.0.0", Fixed: "v1.0.2"},
		{ID: "GHSA-test", Ecosystem: "npm", Name: "left-pad", Version: "1.1.0", Fixed: "2.0.0"},
	}
	plan := func(o FixOptions) map[string]string {
		updates, _ := PlanFix(deps, vulns, o)
		out := map[string]string{}
		for _, u := range updates {
			out[u.Name] = u.To + " " + string(u.Type) + " " + u.Group + " " + strings.Join(u.Advisories, ",")
		}
		return out
	}
	assert.Equal(t, map[string]string{"example.com/a": "v1.0.2 patch go:example.com/a GO-TEST-1", "left-pad": "1.1.1 patch npm:left-pad ", "@types/node": "20.1.5 patch npm:@types/node "},
		plan(FixOptions{Level: "patch"}))
	assert.Equal(t, map[string]string{"example.com/a": "v1.2.0 minor go:example.com/a GO-TEST-1", "left-pad": "1.2.0 minor npm:left-pad ", "@types/node": "20.1.5 patch npm:@types/node "},
		plan(FixOptions{Level: "minor"}))
	assert.Equal(t, map[string]string{"example.com/a": "v1.2.0 minor go:example.com/a GO-TEST-1", "left-pad": "2.0.0 major npm:left-pad GHSA-test", "@types/node": "22.0.0 major npm:@types/node "},
		plan(FixOptions{Level: "major"}), "pre-releases are not proposed")
	assert.Equal(t, map[string]string{"example.com/a": "v1.0.2 patch go:example.com/a GO-TEST-1", "left-pad": "2.0.0 major npm:left-pad GHSA-test"},
		plan(FixOptions{Level: "major", SecurityOnly: true}), "the lowest version that fixes it")
	assert.Equal(t, map[string]string{"example.com/a": "v1.0.1 patch npm-and-go ", "left-pad": "1.1.1 patch npm-and-go "},
		plan(FixOptions{Level: "patch", Groups: []FixGroup{{Name: "npm-and-go", Patterns: []string{"*"}}},
			Ignore: []IgnoreRule{{Name: "@types/*"}, {Name: "example.com/a", Versions: ">=1.0.2"}}}), "groups and ignore rules")

	assert.Equal(t, map[string]string{"@types/node": "20.1.5 patch npm:@types/node "},
		plan(FixOptions{Level: "minor", Allow: []UpdateKind{UpdatePatch}}), "only the allowed types: a minor update is not made smaller")

	_, skipped := PlanFix(deps, vulns, FixOptions{Level: "minor", SecurityOnly: true})
	assert.Equal(t, []Skipped{{Name: "left-pad", Reason: "no minor update of 1.1.0 fixes every advisory"}}, skipped)
}

func TestParseGroup(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    FixGroup
		wantErr bool
	}{
		{in: "x=golang.org/x/*", want: FixGroup{Name: "x", Patterns: []string{"golang.org/x/*"}}},
		{in: "types=@types/*,typescript", want: FixGroup{Name: "types", Patterns: []string{"@types/*", "typescript"}}},
		{in: "nopatterns", wantErr: true},
		{in: "=a", wantErr: true},
		{in: "a=", wantErr: true},
	} {
		g, err := ParseGroup(tc.in)
		if tc.wantErr {
			var in *InputError
			require.ErrorAs(t, err, &in, tc.in)
			assert.Equal(t, "audit.Groups", in.InputOption())
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, g)
	}
}

// TestFixDryRun: a dry run plans and changes nothing; the result's lists are empty, not null.
func TestFixDryRun(t *testing.T) {
	dir := t.TempDir()
	scan := &Report{Dependencies: []Dependency{{Ecosystem: "go", Name: "example.com/a", Current: "v1.0.0", Versions: []string{"v1.0.0", "v1.0.1"}, File: "go.mod", Line: 3}}}
	res, err := Fix(context.Background(), scan, FixRequest{Plan: FixOptions{Level: UpdatePatch}, Apply: ApplyOptions{Dir: dir, BodiesDir: "prs"}, DryRun: true})
	require.NoError(t, err)
	require.Len(t, res.Updates, 1)
	assert.Equal(t, "v1.0.1", res.Updates[0].To)
	assert.Equal(t, []Skipped{}, res.Skipped)
	assert.Equal(t, []string{}, res.Bodies)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing written")

	res, err = Fix(context.Background(), &Report{}, FixRequest{Plan: FixOptions{Level: UpdatePatch}, Apply: ApplyOptions{Dir: dir, BodiesDir: "prs"}})
	require.NoError(t, err)
	assert.Equal(t, []Update{}, res.Updates, "nothing to update: nothing applied")
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// TestFixGoBuilds: audit fix on a module whose dependency has a newer minor and an advisory: the new
// go.mod requires it, go mod tidy accepts it, and the module builds.
func TestFixGoBuilds(t *testing.T) {
	testenv.Tool(t, "go", "the Go toolchain")
	code := func(v string) map[string]string {
		return map[string]string{"alpha.go": "package alpha\n\n// Version is the module's version.\nfunc Version() string { return \"" + v + "\" }\n"}
	}
	proxy := writeGoProxy(t, map[string][]goproxytest.Version{"example.com/alpha": {
		{Version: "v1.0.0", Time: day(1), Files: code("v1.0.0")},
		{Version: "v1.0.1", Time: day(2), Files: code("v1.0.1")},
		{Version: "v1.1.0", Time: day(3), Files: code("v1.1.0")},
	}})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.22\n\nrequire example.com/alpha v1.0.0\n")
	write(t, filepath.Join(dir, "main.go"), "package main\n\nimport \"example.com/alpha\"\n\nfunc main() { println(alpha.Version()) }\n")
	goEnv := append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=-modcacherw", "GOMODCACHE="+t.TempDir(),
		"GOTOOLCHAIN=local", "GOPRIVATE=", "GONOPROXY=", "GOWORK=off")
	_, err := GoModTidy(context.Background(), dir, goEnv)
	require.NoError(t, err)

	osvDir := t.TempDir()
	write(t, filepath.Join(osvDir, "TEST-1.json"), `{"id":"TEST-1","summary":"alpha leaks","affected":[{"package":{"ecosystem":"Go","name":"example.com/alpha"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`)
	m, err := ReadGoMod(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	p, err := NewGoProxy(env(map[string]string{"GOPROXY": "file://" + proxy}), http.DefaultClient)
	require.NoError(t, err)
	deps, err := OutdatedGo(context.Background(), m, p)
	require.NoError(t, err)
	db, err := OpenVulnDB("file://"+filepath.ToSlash(osvDir), http.DefaultClient)
	require.NoError(t, err)
	vulns, err := Vulnerabilities(context.Background(), db, deps)
	require.NoError(t, err)
	require.Len(t, vulns, 1)

	updates, _ := PlanFix(deps, vulns, FixOptions{Level: "minor"})
	require.Len(t, updates, 1)
	assert.Equal(t, "v1.1.0", updates[0].To)
	assert.Equal(t, []string{"TEST-1"}, updates[0].Advisories)
	require.NoError(t, ApplyGoMod(filepath.Join(dir, "go.mod"), updates))
	notes, err := GoModTidy(context.Background(), dir, goEnv)
	require.NoError(t, err)
	assert.Empty(t, notes, "the go directive stays, nothing is vendored")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(gomod), "require example.com/alpha v1.1.0\n")
	build := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "app"), ".")
	build.Dir, build.Env = dir, goEnv
	out, err := build.CombinedOutput()
	assert.NoError(t, err, "the fixed module builds: %s", out)
	golden.Assert(t, "fix-pr-body.md", []byte(PullRequestBody("go:example.com/alpha", updates, vulns)))
	assert.Equal(t, "build(deps): bump example.com/alpha from v1.0.0 to v1.1.0", CommitMessage("go:example.com/alpha", updates))
}

// TestFixGoDirectiveAndVendor: audit fix keeps go.mod's go directive unless a new requirement needs a
// newer Go, updates vendor/ in a vendored module, and says both in the commit and the pull-request body.
func TestFixGoDirectiveAndVendor(t *testing.T) {
	testenv.Tool(t, "go", "the Go toolchain")
	code := map[string]string{"alpha.go": "package alpha\n\n// Version is the module's version.\nfunc Version() string { return \"x\" }\n"}
	proxy := writeGoProxy(t, map[string][]goproxytest.Version{"example.com/alpha": {
		{Version: "v1.0.0", Time: day(1), Files: code, Go: "1.20"},
		{Version: "v1.0.1", Time: day(2), Files: code, Go: "1.20"},
		{Version: "v1.1.0", Time: day(3), Files: code, Go: "1.24"},
	}})
	goEnv := append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=-modcacherw", "GOMODCACHE="+t.TempDir(),
		"GOTOOLCHAIN=local", "GOPRIVATE=", "GONOPROXY=", "GOWORK=off")
	for _, tc := range []struct {
		to        string
		wantGo    string
		wantNotes []string
	}{
		{"v1.0.1", "go 1.20\n", []string{"vendor/ is updated with go mod vendor."}},
		{"v1.1.0", "go 1.24", []string{"The go directive moves from 1.20 to 1.24: a new requirement needs that Go version.", "vendor/ is updated with go mod vendor."}},
	} {
		t.Run(tc.to, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.20\n\nrequire example.com/alpha v1.0.0\n")
			write(t, filepath.Join(dir, "main.go"), "package main\n\nimport \"example.com/alpha\"\n\nfunc main() { println(alpha.Version()) }\n")
			for _, args := range [][]string{{"mod", "tidy"}, {"mod", "vendor"}} {
				cmd := exec.Command("go", args...)
				cmd.Dir, cmd.Env = dir, goEnv
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s", out)
			}
			updates := []Update{{Ecosystem: Go, Name: "example.com/alpha", From: "v1.0.0", To: tc.to, Type: UpdatePatch, Group: "alpha"}}
			require.NoError(t, ApplyGoMod(filepath.Join(dir, "go.mod"), updates))
			notes, err := GoModTidy(context.Background(), dir, goEnv)
			require.NoError(t, err)
			assert.Equal(t, tc.wantNotes, notes)
			gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			require.NoError(t, err)
			assert.Contains(t, string(gomod), tc.wantGo)
			vendored, err := os.ReadFile(filepath.Join(dir, "vendor", "modules.txt"))
			require.NoError(t, err)
			assert.Contains(t, string(vendored), "# example.com/alpha "+tc.to+"\n", "vendor/ follows")
			build := exec.Command("go", "build", "-mod=vendor", "-o", filepath.Join(t.TempDir(), "app"), ".")
			build.Dir, build.Env = dir, goEnv
			out, err := build.CombinedOutput()
			require.NoError(t, err, "the vendored module builds: %s", out)
			assert.Contains(t, PullRequestBody("alpha", updates, nil, notes...), "### Also\n\n- "+notes[0])
			assert.Contains(t, CommitMessage("alpha", updates, notes...), "\n\n"+notes[0])
		})
	}
}

// TestFixNpmInstalls: audit fix rewrites the ranges of package.json, npm writes the lock for them, and
// npm install accepts the result.
func TestFixNpmInstalls(t *testing.T) {
	srv := fakeNpmRegistry(t)
	dir := npmProject(t, srv, npmInstalled)
	npm(t, dir, nil, "install", "--ignore-scripts")
	writePackageJSON(t, dir, npmRanges)
	p, err := ReadNpmProject(dir)
	require.NoError(t, err)
	reg, err := NewNpmRegistry(dir, env(map[string]string{"TEST_NPM_TOKEN": npmToken}), srv.Client())
	require.NoError(t, err)
	deps, err := OutdatedNpm(context.Background(), p, reg)
	require.NoError(t, err)
	updates, _ := PlanFix(deps, nil, FixOptions{Level: "minor", Groups: []FixGroup{{Name: "npm", Patterns: []string{"*"}}}})
	got := map[string]string{}
	for _, u := range updates {
		got[u.Name] = u.To
	}
	assert.Equal(t, map[string]string{"left-pad": "1.2.0", "@acme/util": "1.1.0", "beta-pkg": "1.1.0", "pinned": "1.0.1", "tagged": "1.1.0", "dev-tool": "0.2.0", "old-lib": "1.0.1", "engined": "1.1.0"}, got, "0.1 to 0.2 is a minor update, as Dependabot counts it; nothing the Node on PATH cannot run")

	require.NoError(t, ApplyPackageJSON(filepath.Join(dir, "package.json"), updates))
	npm(t, dir, nil, "install", "--package-lock-only", "--ignore-scripts")
	npm(t, dir, nil, "ci", "--ignore-scripts")
	var pkg struct{ Dependencies, DevDependencies map[string]string }
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &pkg))
	assert.Equal(t, "^1.2.0", pkg.Dependencies["left-pad"], "the caret is kept")
	assert.Equal(t, "~1.1.0", pkg.Dependencies["@acme/util"], "the tilde is kept")
	assert.Equal(t, "1.0.1", pkg.Dependencies["pinned"], "an exact version stays exact")
	assert.Equal(t, "^0.2.0", pkg.DevDependencies["dev-tool"])
	installed, err := os.ReadFile(filepath.Join(dir, "node_modules", "left-pad", "package.json"))
	require.NoError(t, err)
	assert.Contains(t, string(installed), `"version":"1.2.0"`)
}

// TestPlanFixLeavesTheBuildListAlone: a module of the build list that go.mod does not require moves only
// to fix an advisory.
func TestPlanFixLeavesTheBuildListAlone(t *testing.T) {
	deps := []Dependency{
		{Ecosystem: Go, Name: "example.com/listed", Current: "v1.0.0", Versions: []string{"v1.0.0", "v1.1.0"}, File: "go.mod", Line: 5},
		{Ecosystem: Go, Name: "example.com/transitive", Current: "v1.0.0", Versions: []string{"v1.0.0", "v1.1.0"}, File: "go.mod"},
		{Ecosystem: Go, Name: "example.com/vulnerable", Current: "v1.0.0", Versions: []string{"v1.0.0", "v1.0.1", "v1.1.0"}, File: "go.mod"},
	}
	vulns := []Vulnerability{{ID: "GO-TEST-2", Ecosystem: Go, Name: "example.com/vulnerable", Version: "v1.0.0", Fixed: "v1.0.1"}}
	updates, _ := PlanFix(deps, vulns, FixOptions{Level: UpdateMinor})
	var names []string
	for _, u := range updates {
		names = append(names, u.Name)
	}
	assert.Equal(t, []string{"example.com/listed", "example.com/vulnerable"}, names)
}
