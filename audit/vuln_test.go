package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/testenv"
	"github.com/xeipuuv/gojsonschema"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoVulnDBProtobuf: protobuf v1.32.0 has GO-2024-2611, fixed in v1.33.0, as govulncheck reports.
func TestGoVulnDBProtobuf(t *testing.T) {
	db, err := OpenVulnDB(testenv.VulnDB(t), http.DefaultClient)
	require.NoError(t, err)
	m, err := ParseGoMod("go.mod", []byte("module example.com/app\n\ngo 1.22\n\nrequire (\n\tgoogle.golang.org/protobuf v1.32.0\n\tgolang.org/x/text v0.3.0 // indirect\n\tgithub.com/google/uuid v1.6.0\n)\n"))
	require.NoError(t, err)
	var deps []Dependency
	for _, r := range m.Requires {
		deps = append(deps, Dependency{Ecosystem: "go", Name: r.Path, Current: r.Version, File: m.File, Line: r.Line})
	}
	vulns, err := Vulnerabilities(context.Background(), db, deps)
	require.NoError(t, err)
	byID := map[string]Vulnerability{}
	for _, v := range vulns {
		byID[v.ID] = v
		assert.NotEqual(t, "github.com/google/uuid", v.Name, "uuid v1.6.0 has no advisory")
	}
	pb, ok := byID["GO-2024-2611"]
	require.True(t, ok, "found: %v", vulns)
	assert.Equal(t, "google.golang.org/protobuf", pb.Name)
	assert.Equal(t, "v1.33.0", pb.Fixed)
	assert.Contains(t, pb.Aliases, "CVE-2024-24786")
	assert.Equal(t, 6, pb.Line)
	assert.Equal(t, "unknown", pb.Severity, "the Go database rates no severity")
	assert.Contains(t, byID, "GO-2021-0113", "x/text v0.3.0: out-of-bounds read in language.ParseAcceptLanguage")

	modified, err := db.Modified(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "2026-08-21", modified.Format(time.DateOnly), "the snapshot's index/db.json")
	osvDir, err := filepath.Abs(filepath.Join("testdata", "osv"))
	require.NoError(t, err)
	dir, err := OpenVulnDB("file://"+filepath.ToSlash(osvDir), http.DefaultClient)
	require.NoError(t, err)
	modified, err = dir.Modified(context.Background())
	require.NoError(t, err)
	assert.True(t, modified.IsZero(), "a directory of OSV files has no date")

	vulns, err = Vulnerabilities(context.Background(), db, []Dependency{{Ecosystem: "go", Name: "google.golang.org/protobuf", Current: "v1.33.0"}})
	require.NoError(t, err)
	for _, v := range vulns {
		assert.NotEqual(t, "GO-2024-2611", v.ID, "fixed in v1.33.0")
	}
}

// TestOSVAffects matches versions against real advisories of the Go database saved under testdata/osv.
func TestOSVAffects(t *testing.T) {
	load := func(id string) *OSV { return loadOSV(t, id) }
	for _, tc := range []struct {
		id, name, version string
		affected          bool
		fixed             string
	}{
		{"GO-2024-2611", "google.golang.org/protobuf", "v1.32.0", true, "1.33.0"},
		{"GO-2024-2611", "google.golang.org/protobuf", "1.0.0", true, "1.33.0"},
		{"GO-2024-2611", "google.golang.org/protobuf", "v1.33.0", false, ""},
		{"GO-2024-2611", "google.golang.org/protobuf", "v1.34.0-rc.1", false, ""},
		{"GO-2024-2611", "google.golang.org/grpc", "v1.0.0", false, ""},
		// introduced 2.3.1, fixed 2.14.4; introduced 2.15.0, fixed 2.15.3; introduced 2.16.0, fixed 2.16.1
		{"GO-2024-3228", "github.com/coder/coder/v2", "v2.3.0", false, ""},
		{"GO-2024-3228", "github.com/coder/coder/v2", "v2.3.1", true, "2.14.4"},
		{"GO-2024-3228", "github.com/coder/coder/v2", "v2.14.4", false, ""},
		{"GO-2024-3228", "github.com/coder/coder/v2", "v2.15.2", true, "2.15.3"},
		{"GO-2024-3228", "github.com/coder/coder/v2", "v2.15.3", false, ""},
		{"GO-2024-3228", "github.com/coder/coder/v2", "v2.16.0", true, "2.16.1"},
		{"GO-2024-3228", "github.com/coder/coder/v2", "v2.17.0", false, ""},
		// +incompatible versions, several ranges
		{"GO-2024-2916", "github.com/goharbor/harbor", "v2.8.5+incompatible", true, "2.8.6+incompatible"},
		{"GO-2024-2916", "github.com/goharbor/harbor", "v2.9.3+incompatible", true, "2.9.4+incompatible"},
		{"GO-2024-2916", "github.com/goharbor/harbor", "v2.9.4+incompatible", false, ""},
		{"GO-2024-2916", "github.com/goharbor/harbor", "not-a-version", false, ""},
		// GitHub's npm advisory: an ECOSYSTEM range for two packages
		{"GHSA-35jh-r3h4-6jhm", "lodash", "4.17.20", true, "4.17.21"},
		{"GHSA-35jh-r3h4-6jhm", "lodash-es", "4.17.15", true, "4.17.21"},
		{"GHSA-35jh-r3h4-6jhm", "lodash", "4.17.21", false, ""},
		{"GHSA-35jh-r3h4-6jhm", "underscore", "1.0.0", false, ""},
		// GitHub's npm advisory with last_affected and no fix: every version up to it, no fixed version
		{"GHSA-p8p7-x288-28g6", "request", "2.88.2", true, ""},
		{"GHSA-p8p7-x288-28g6", "request", "2.88.0", true, ""},
		{"GHSA-p8p7-x288-28g6", "request", "2.88.3", false, ""},
		{"GHSA-p8p7-x288-28g6", "@cypress/request", "2.88.11", true, ""},
		{"GHSA-p8p7-x288-28g6", "@cypress/request", "2.88.12", false, ""},
		{"GHSA-p8p7-x288-28g6", "@cypress/request", "3.0.0", false, ""},
	} {
		t.Run(tc.id+"@"+tc.version, func(t *testing.T) {
			ecosystem := Go
			if strings.HasPrefix(tc.id, "GHSA-") {
				ecosystem = Npm
			}
			affected, fixed := load(tc.id).Affects(ecosystem, tc.name, tc.version)
			assert.Equal(t, tc.affected, affected)
			assert.Equal(t, tc.fixed, fixed)
		})
	}
}

func loadOSV(t *testing.T, id string) *OSV {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "osv", id+".json"))
	require.NoError(t, err)
	var o OSV
	require.NoError(t, json.Unmarshal(data, &o))
	return &o
}

// TestOSVEvents: the schema's event kinds, on npm versions: last_affected, limit, an explicit list.
func TestOSVEvents(t *testing.T) {
	o := &OSV{ID: "TEST-1", Affected: []OSVAffected{{Ranges: []OSVRange{
		{Type: "SEMVER", Events: []OSVEvent{{Introduced: "1.0.0"}, {LastAffected: "1.4.2"}}},
		{Type: "SEMVER", Events: []OSVEvent{{Introduced: "2.0.0"}, {Limit: "2.5.0"}}},
		{Type: "GIT", Events: []OSVEvent{{Introduced: "0"}}},
	}, Versions: []string{"0.9.1"}}}}
	o.Affected[0].Package.Name, o.Affected[0].Package.Ecosystem = "left-pad", "npm"
	for version, want := range map[string]bool{
		"0.9.0": false, "0.9.1": true, "1.0.0": true, "1.4.2": true, "1.4.3": false,
		"2.4.9": true, "2.5.0": false, "3.0.0": false, "1.2.0-beta.1": true,
	} {
		affected, _ := o.Affects("npm", "left-pad", version)
		assert.Equal(t, want, affected, version)
	}
}

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		osv  OSV
		want string
	}{
		{OSV{Severity: []OSVSeverity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}}, "critical"},
		{OSV{Severity: []OSVSeverity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}}, "high"},
		{OSV{Severity: []OSVSeverity{{Type: "CVSS_V3", Score: "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"}}}, "moderate"},
		{OSV{Severity: []OSVSeverity{{Type: "CVSS_V3", Score: "not a vector"}}}, "unknown"},
		{OSV{}, "unknown"},
	} {
		assert.Equal(t, tc.want, tc.osv.severity(), tc.osv.Severity)
	}
	lodash := loadOSV(t, "GHSA-35jh-r3h4-6jhm")
	assert.Equal(t, "high", lodash.severity(), "GitHub's rating")
	gh := OSV{}
	gh.DatabaseSpecific.Severity = "MODERATE"
	assert.Equal(t, "moderate", gh.severity())
	assert.Less(t, SeverityRank("unknown"), SeverityRank("low"))
	assert.Less(t, SeverityRank("high"), SeverityRank("critical"))
}

// TestOSVDirectory: a directory of OSV files (no index) serves both ecosystems.
func TestOSVDirectory(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "osv"))
	require.NoError(t, err)
	db, err := OpenVulnDB("file://"+filepath.ToSlash(dir), http.DefaultClient)
	require.NoError(t, err)
	vulns, err := Vulnerabilities(context.Background(), db, []Dependency{
		{Ecosystem: "npm", Name: "lodash", Current: "4.17.20", File: "package.json", Line: 3},
		{Ecosystem: "go", Name: "google.golang.org/protobuf", Current: "v1.32.0"},
		{Ecosystem: "npm", Name: "lodash-es", Current: "4.17.21"},
	})
	require.NoError(t, err)
	require.Len(t, vulns, 2)
	assert.Equal(t, Vulnerability{ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Ecosystem: "npm", Name: "lodash", Version: "4.17.20",
		Severity: "high", Fixed: "4.17.21", Summary: "Command Injection in lodash", File: "package.json", Line: 3}, vulns[0])
	assert.Equal(t, "GO-2024-2611", vulns[1].ID)
	_, err = OpenVulnDB("file:///nonexistent/db", nil)
	assert.EqualError(t, err, "/nonexistent/db is not a directory")
	var in *InputError
	require.ErrorAs(t, err, &in)
	assert.Equal(t, "audit.VulnDB", in.InputOption())
}

// TestWriteSARIF: the log is valid SARIF 2.1.0 (checked against its schema) with a rule per advisory
// and results on the manifest lines.
func TestWriteSARIF(t *testing.T) {
	vulns := []Vulnerability{
		{ID: "GO-2024-2611", Ecosystem: "go", Name: "google.golang.org/protobuf", Version: "v1.32.0", Severity: "unknown", Fixed: "v1.33.0",
			Summary: "Infinite loop in JSON unmarshaling", URL: "https://pkg.go.dev/vuln/GO-2024-2611", File: "go.mod", Line: 6},
		{ID: "GHSA-35jh-r3h4-6jhm", Ecosystem: "npm", Name: "lodash", Version: "4.17.20", Severity: "high", Fixed: "4.17.21", Summary: "Command Injection in lodash", File: "package.json", Line: 4},
	}
	deps := []Dependency{{Ecosystem: "go", Name: "example.com/old", Current: "v1.0.0", Deprecated: "use example.com/new", File: "go.mod", Line: 7}}
	var buf bytes.Buffer
	require.NoError(t, WriteSARIF(&buf, "1.2.3", deps, vulns))
	schema, err := os.ReadFile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	require.NoError(t, err)
	valid, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(buf.Bytes()))
	require.NoError(t, err)
	assert.True(t, valid.Valid(), "%v", valid.Errors())
	assert.NotContains(t, buf.String(), "-1", "no placeholders for unset indexes")
	assert.NotContains(t, buf.String(), "[]", "no empty lists")
	assert.NotContains(t, buf.String(), `"fixes"`)
	log, err := sarif.FromBytes(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, log.Runs, 1)
	run := log.Runs[0]
	assert.Len(t, run.Tool.Driver.Rules, 3)
	require.Len(t, run.Results, 3)
	lodash := run.Results[1]
	assert.Equal(t, "GHSA-35jh-r3h4-6jhm", *lodash.RuleID)
	assert.Equal(t, "error", lodash.Level)
	assert.Equal(t, "package.json", *lodash.Locations[0].PhysicalLocation.ArtifactLocation.URI)
	assert.Equal(t, 4, *lodash.Locations[0].PhysicalLocation.Region.StartLine)
	assert.Contains(t, buf.String(), `"security-severity": "8.0"`)
}

// TestWithdrawnAdvisoriesAreSkipped: matching go.mod's lines (when govulncheck cannot load the module)
// leaves out withdrawn advisories, as govulncheck does: lib/pq v1.10.9 has five in the snapshot.
func TestWithdrawnAdvisoriesAreSkipped(t *testing.T) {
	db, err := OpenVulnDB(testenv.VulnDB(t), http.DefaultClient)
	require.NoError(t, err)
	all, err := db.Advisories(context.Background(), Go, "github.com/lib/pq")
	require.NoError(t, err)
	withdrawn := 0
	for _, o := range all {
		if o.Withdrawn != "" {
			withdrawn++
		}
	}
	require.GreaterOrEqual(t, withdrawn, 5, "the snapshot has lib/pq's withdrawn advisories")
	found, err := Vulnerabilities(context.Background(), db, []Dependency{{Ecosystem: Go, Name: "github.com/lib/pq", Current: "v1.10.9"}})
	require.NoError(t, err)
	for _, v := range found {
		assert.NotContains(t, v.ID, "GO-2026-61", "withdrawn advisories are not reported: %s", v.ID)
	}
}

func TestFixedAbove(t *testing.T) {
	for in, want := range map[string]string{"<4.17.21": "4.17.21", ">=1.0.0 <1.2.3": "1.2.3", "<=2.0.0": "", "*": "", "": "", ">=3.0.0 <3.0.8 || <2.1.4": "2.1.4"} {
		assert.Equal(t, want, fixedAbove(in), in)
	}
}
