package audit

import (
	"os"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/goproxytest"
)

// writeGoProxy writes a file:// GOPROXY of the modules into a new directory.
func writeGoProxy(t testing.TB, modules map[string][]goproxytest.Version) string {
	t.Helper()
	dir := t.TempDir()
	if err := goproxytest.Write(dir, modules); err != nil {
		t.Fatal(err)
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
var goFixture = map[string][]goproxytest.Version{
	"example.com/alpha": {
		{Version: "v1.0.0", Time: day(1)}, {Version: "v1.1.0", Time: day(2)},
		{Version: "v1.2.0", Time: day(3), GoMod: "retract v1.1.0 // data loss on restart\n"},
		{Version: "v1.3.0-rc.1", Time: day(4)},
	},
	"example.com/alpha/v2": {{Version: "v2.0.0", Time: day(5)}, {Version: "v2.1.0", Time: day(6)}},
	"example.com/alpha/v3": {{Version: "v3.0.0-beta.1", Time: day(7)}},
	"example.com/beta":     {{Version: "v0.1.0", Time: day(1)}, {Version: "v0.2.0", Time: day(2)}, {Version: "v0.3.0-beta.1", Time: day(3)}},
	"example.com/gamma": {
		{Version: "v0.0.0-20260101000000-abcdefabcdef", Time: day(0), Pseudo: true},
		{Version: "v0.0.0-20260201000000-123456789abc", Time: day(31), Pseudo: true},
	},
	"example.com/delta":   {{Version: "v1.0.0", Time: day(1)}, {Version: "v1.0.1", Time: day(2), Deprecated: "use example.com/epsilon instead."}},
	"example.com/epsilon": {{Version: "v1.4.0", Time: day(1)}},
	"example.com/zeta": {
		{Version: "v1.0.0", Time: day(1)}, {Version: "v1.5.0", Time: day(20)}, {Version: "v1.4.9", Time: day(25)},
		{Version: "v2.0.0+incompatible", Time: day(26)},
	},
	"example.com/eta": {{Version: "v0.9.0", Time: day(1)}, {Version: "v1.0.0", Time: day(2)}, {Version: "v1.1.0", Time: day(3)}},
	// theta's tags predate modules (+incompatible), and the proxy lists a pseudo-version of a later
	// commit with a go.mod: the go command ignores listed pseudo-versions, so the tags stay upgrades.
	"example.com/theta": {
		{Version: "v0.0.0-20260301000000-abcdefabcdef", Time: day(30), Pseudo: true, Listed: true},
		{Version: "v2.0.0+incompatible", Time: day(10), Bare: true}, {Version: "v2.1.0+incompatible", Time: day(20), Bare: true},
	},
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
	example.com/theta v2.0.0+incompatible
)
`
