package audit

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/testenv"
)

// fixtureModule copies a module of testdata/modules into a temporary directory, vendored when asked,
// and returns it with the environment of an offline scan (the modules are in the module cache: .ci/run
// downloads them).
func fixtureModule(t *testing.T, name string) (string, func(string) string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "modules", name))))
	env := map[string]string{"GOPROXY": "off", "GOTOOLCHAIN": "local", "GOWORK": "off", "GOFLAGS": "-mod=mod"}
	if name == "vendored" {
		cmd := exec.Command("go", "mod", "vendor")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go mod vendor (run .ci/run, which downloads the fixtures' modules): %s", out)
		env["GOFLAGS"] = "-mod=vendor"
	}
	return dir, func(k string) string { return env[k] }
}

// peerFindings runs the govulncheck command at level and returns its findings as "ID module", and the
// called ones apart.
func peerFindings(t *testing.T, dir string, getenv func(string) string, level ScanLevel) (all, called []string) {
	t.Helper()
	bin := testenv.Tool(t, "govulncheck", "go install golang.org/x/vuln/cmd/govulncheck@v1.9.0")
	args := []string{"-C", dir, "-db", testenv.VulnDB(t), "-format", "json", "-scan", string(level)}
	if level != ScanModule {
		args = append(args, "./...")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	for _, k := range goEnvKeys {
		if v := getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		require.Equal(t, 3, ee.ExitCode(), "govulncheck: %s", ee.Stderr) // 3: vulnerabilities found
	} else {
		require.NoError(t, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var m struct {
			Finding *struct {
				OSV   string
				Trace []struct{ Module, Function string }
			}
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		if m.Finding == nil {
			continue
		}
		k := m.Finding.OSV + " " + m.Finding.Trace[0].Module
		if !slices.Contains(all, k) {
			all = append(all, k)
		}
		if m.Finding.Trace[0].Function != "" && !slices.Contains(called, k) {
			called = append(called, k)
		}
	}
	slices.Sort(all)
	slices.Sort(called)
	return all, called
}

// ours runs Scan at level and returns its Go findings as "ID module", and the called ones apart.
func ours(t *testing.T, dir string, getenv func(string) string, level ScanLevel) (r *Report, all, called []string) {
	t.Helper()
	r, err := Scan(context.Background(), Options{Dir: dir, VulnDB: testenv.VulnDB(t), Getenv: getenv, Scan: level})
	require.NoError(t, err)
	require.Equal(t, string(level), r.GoScan, r.GoScanNote)
	for _, v := range r.Vulnerabilities {
		k := v.ID + " " + v.Name
		all = append(all, k)
		if v.Reachable == Called {
			called = append(called, k)
		}
	}
	slices.Sort(all)
	slices.Sort(called)
	return r, all, called
}

// TestGovulncheckParity: on real modules at old versions (a go.mod older than Go 1.17 that does not list
// its transitive modules, a replace directive, a vendor directory, withdrawn advisories), shipyard's
// (module, advisory) set equals govulncheck's module scan, and its called set govulncheck's symbol scan.
func TestGovulncheckParity(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "modules"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(entries), 5)
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			dir, getenv := fixtureModule(t, e.Name())
			wantAll, _ := peerFindings(t, dir, getenv, ScanModule)
			_, gotAll, _ := ours(t, dir, getenv, ScanModule)
			assert.Equal(t, wantAll, gotAll, "the module scan")
			_, wantCalled := peerFindings(t, dir, getenv, ScanSymbol)
			r, _, gotCalled := ours(t, dir, getenv, ScanSymbol)
			assert.Equal(t, wantCalled, gotCalled, "the called ones")
			for _, v := range r.Vulnerabilities {
				if v.Reachable == Called {
					require.NotEmpty(t, v.CallPath, v.ID)
					assert.True(t, strings.HasPrefix(v.CallPath[0], "example.com/"+e.Name()+"."), "%s: the path starts in the project: %s", v.ID, v.CallPath[0])
					assert.Contains(t, v.CallPath[len(v.CallPath)-1], v.Name, "and ends in the vulnerable module")
				}
			}
		})
	}
}

// TestGovulncheckFindings: what the fixtures are there for, and what matching go.mod's lines missed.
func TestGovulncheckFindings(t *testing.T) {
	modules := func(r *Report) (names []string) {
		for _, v := range r.Vulnerabilities {
			if !slices.Contains(names, v.Name) {
				names = append(names, v.Name)
			}
		}
		return names
	}
	dir, getenv := fixtureModule(t, "pre117")
	r, _, _ := ours(t, dir, getenv, ScanModule)
	assert.Contains(t, modules(r), "golang.org/x/net", "a transitive module that the go.mod of Go 1.16 does not list")

	dir, getenv = fixtureModule(t, "replaced")
	r, _, called := ours(t, dir, getenv, ScanSymbol)
	assert.NotContains(t, modules(r), "golang.org/x/text", "replaced by a fixed version")
	assert.NotEmpty(t, called, "yaml.Unmarshal is called")

	dir, getenv = fixtureModule(t, "withdrawn")
	r, _, _ = ours(t, dir, getenv, ScanModule)
	for _, v := range r.Vulnerabilities {
		assert.NotContains(t, []string{"GO-2026-6166", "GO-2026-6168", "GO-2026-6169", "GO-2026-6170", "GO-2026-6171"}, v.ID, "withdrawn")
	}

	dir, getenv = fixtureModule(t, "vendored")
	r, _, called = ours(t, dir, getenv, ScanSymbol)
	require.NotEmpty(t, r.Vulnerabilities)
	assert.Empty(t, called, "ssh is imported, nothing vulnerable is called")
	assert.Empty(t, r.Failing("low"), "by default only called ones fail")
	r.failUnreachable = true
	assert.NotEmpty(t, r.Failing("low"), "FailUnreachable counts the rest")
}

// FuzzParseGovulncheck: any stream gives findings or an error, never a panic, and every finding names
// its advisory, module and reach.
func FuzzParseGovulncheck(f *testing.F) {
	f.Add(`{"osv":{"id":"GO-1","summary":"s"}}{"finding":{"osv":"GO-1","trace":[{"module":"m","version":"v1.0.0","package":"m/p","function":"F"},{"module":"main","package":"main","function":"main"}]}}`)
	f.Add(`{"finding":{"osv":"GO-2","trace":[]}}{"finding":{"osv":"GO-3","trace":[{"module":"stdlib","version":"go1.26.0"}]}}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, stream string) {
		found, err := parseGovulncheck(strings.NewReader(stream))
		if err != nil {
			return
		}
		for _, v := range found {
			if v.Name == "" || v.ID == "" || !slices.Contains([]string{Required, Imported, Called}, v.Reachable) {
				t.Fatalf("a finding without its advisory or reach: %+v", v)
			}
		}
	})
}

// TestOutdatedEqualsGoListOnRealModules: on the real fixture modules and the public Go module proxy,
// the build list and each module's wanted version (the compatible upgrade) are go list -m -u -json
// all's, asked at the same moment.
func TestOutdatedEqualsGoListOnRealModules(t *testing.T) {
	if out, err := exec.Command("go", "list", "-m", "-versions", "golang.org/x/mod").CombinedOutput(); err != nil {
		testenv.Missing(t, "the Go module proxy cannot be reached: "+string(out))
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "modules"))
	require.NoError(t, err)
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			dir, _ := fixtureModule(t, e.Name())
			getenv := func(k string) string {
				return map[string]string{"GOFLAGS": "-mod=mod", "GOWORK": "off", "GOTOOLCHAIN": "local"}[k]
			}
			r, err := Scan(context.Background(), Options{Dir: dir, VulnDB: VulnDBOff, RuntimeDB: "off", Getenv: getenv})
			require.NoError(t, err)
			require.Empty(t, r.BuildListNote)
			require.NoError(t, r.Incomplete())
			peer := filepath.Join(t.TempDir(), e.Name())
			require.NoError(t, os.CopyFS(peer, os.DirFS(dir)))
			cmd := exec.Command("go", "list", "-m", "-u", "-json", "all")
			cmd.Dir, cmd.Env = peer, append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
			out, err := cmd.Output()
			require.NoError(t, err)
			want := map[string]string{}
			dec := json.NewDecoder(strings.NewReader(string(out)))
			for {
				var m goListModule
				if err := dec.Decode(&m); err == io.EOF {
					break
				} else {
					require.NoError(t, err)
				}
				if !m.Main {
					want[m.Path] = cmpOr(func() string {
						if m.Update != nil {
							return m.Update.Version
						}
						return ""
					}(), m.Version)
				}
			}
			got := map[string]string{}
			for _, d := range r.Dependencies {
				got[d.Name] = d.Wanted
				if d.LatestName == "" {
					assert.Equal(t, d.Wanted, d.Latest, "%s: no new major path, so latest is the compatible upgrade", d.Name)
					continue
				}
				// latest on a new major path: what the go command resolves path@latest to.
				t.Logf("%s: latest %s on %s", d.Name, d.Latest, d.LatestName)
				cmd := exec.Command("go", "list", "-m", "-json", d.LatestName+"@latest")
				cmd.Dir, cmd.Env = peer, append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
				out, err := cmd.Output()
				require.NoError(t, err, d.LatestName)
				var m goListModule
				require.NoError(t, json.Unmarshal(out, &m))
				assert.Equal(t, m.Version, d.Latest, "%s: the newest major path %s at go list's @latest", d.Name, d.LatestName)
			}
			assert.Equal(t, want, got, "each module of the build list, and its wanted version")
		})
	}
}
