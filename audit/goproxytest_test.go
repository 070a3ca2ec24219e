package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// fixtureVersion is one version of a module in a test GOPROXY.
type fixtureVersion struct {
	version string
	goMod   string // extra lines of its go.mod (retract, deprecation) after the module line
	when    time.Time
	// comment is a deprecation comment put on the module line.
	deprecated string
	pseudo     bool // not listed, only @latest
}

// writeGoProxy writes a file:// GOPROXY: for each module, its version list, .info and .mod files.
func writeGoProxy(t testing.TB, modules map[string][]fixtureVersion) string {
	t.Helper()
	dir := t.TempDir()
	for path, versions := range modules {
		escaped, err := module.EscapePath(path)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(dir, filepath.FromSlash(escaped), "@v")
		if err := os.MkdirAll(base, 0o755); err != nil {
			t.Fatal(err)
		}
		var list []string
		var latest fixtureVersion
		for _, v := range versions {
			info, _ := json.Marshal(VersionInfo{Version: v.version, Time: v.when})
			mod := "module " + path + "\n"
			if v.deprecated != "" {
				mod = "// Deprecated: " + v.deprecated + "\nmodule " + path + "\n"
			}
			mod += "\ngo 1.21\n" + v.goMod
			ev, _ := module.EscapeVersion(v.version)
			write(t, filepath.Join(base, ev+".info"), string(info))
			write(t, filepath.Join(base, ev+".mod"), mod)
			if !v.pseudo {
				list = append(list, v.version)
			}
			if latest.version == "" || semver.Compare(v.version, latest.version) > 0 {
				latest = v
			}
		}
		write(t, filepath.Join(base, "list"), strings.Join(list, "\n")+"\n")
		if len(list) == 0 {
			info, _ := json.Marshal(VersionInfo{Version: latest.version, Time: latest.when})
			write(t, filepath.Join(dir, filepath.FromSlash(escaped), "@latest"), string(info))
		}
	}
	return dir
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func day(n int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

// goFixture is the test GOPROXY's modules: majors, retractions, deprecation, pre-releases, pseudo-versions.
var goFixture = map[string][]fixtureVersion{
	"example.com/alpha": {
		{version: "v1.0.0", when: day(1)}, {version: "v1.1.0", when: day(2)},
		{version: "v1.2.0", when: day(3), goMod: "retract v1.1.0 // data loss on restart\n"},
		{version: "v1.3.0-rc.1", when: day(4)},
	},
	"example.com/alpha/v2": {{version: "v2.0.0", when: day(5)}, {version: "v2.1.0", when: day(6)}},
	"example.com/alpha/v3": {{version: "v3.0.0-beta.1", when: day(7)}},
	"example.com/beta":     {{version: "v0.1.0", when: day(1)}, {version: "v0.2.0", when: day(2)}, {version: "v0.3.0-beta.1", when: day(3)}},
	"example.com/gamma": {
		{version: "v0.0.0-20260101000000-abcdefabcdef", when: day(0), pseudo: true},
		{version: "v0.0.0-20260201000000-123456789abc", when: day(31), pseudo: true},
	},
	"example.com/delta":   {{version: "v1.0.0", when: day(1)}, {version: "v1.0.1", when: day(2), deprecated: "use example.com/epsilon instead."}},
	"example.com/epsilon": {{version: "v1.4.0", when: day(1)}},
	"example.com/zeta": {
		{version: "v1.0.0", when: day(1)}, {version: "v1.5.0", when: day(20)}, {version: "v1.4.9", when: day(25)},
		{version: "v2.0.0+incompatible", when: day(26)},
	},
	"example.com/eta": {{version: "v0.9.0", when: day(1)}, {version: "v1.0.0", when: day(2)}, {version: "v1.1.0", when: day(3)}},
}

const goFixtureMod = `module example.com/app

go 1.21

require (
	example.com/alpha v1.1.0
	example.com/beta v0.3.0-beta.1
	example.com/gamma v0.0.0-20260101000000-abcdefabcdef
	example.com/delta v1.0.0
	example.com/epsilon v1.4.0
	example.com/zeta v1.4.9
	example.com/eta v0.9.0 // indirect
)
`
