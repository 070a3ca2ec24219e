package textreport

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
)

// TestCoverageTotalLine: the total line carries only the notes that have something to say.
func TestCoverageTotalLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    coverage.Report
		want string
	}{
		{"no statements", coverage.Report{}, "total 100.0% (no statements: nothing was measured)"},
		{"statements alone", coverage.Report{Total: coverage.Counts{Statements: 4, Covered: 3}}, "total 75.0% (3/4 statements)"},
		{"with notes", coverage.Report{Total: coverage.Counts{Statements: 4, Covered: 3}, Functions: coverage.FuncCounts{Total: 2, Called: 1}}, "total 75.0% (3/4 statements; functions: 1 of 2 called)"},
	} {
		var b strings.Builder
		require.NoError(t, CoverageTable(&b, &tc.r, nil, false))
		assert.Contains(t, b.String(), "\n"+tc.want+"\n", tc.name)
	}
}

// TestReleaseNote: a release says what it came from, in the table and alone.
func TestReleaseNote(t *testing.T) {
	var b strings.Builder
	require.NoError(t, Release(&b, &release.Record{Env: "staging", Name: "v3", Image: "r/app@sha256:1", RollbackOf: "v1"}))
	assert.Equal(t, "staging v3: r/app@sha256:1 (rollback to v1)\n", b.String())
	b.Reset()
	require.NoError(t, Releases(&b, []release.Record{{Name: "v2", Version: "1.0.0", Digest: "sha256:0123456789abcdef0123", PromotedFrom: "dev/v7"}}))
	assert.Contains(t, b.String(), "v2    1.0.0    sha256:0123456789ab")
	assert.Contains(t, b.String(), "promoted from dev/v7")
}

// TestDeleted: a prune lists each image with its tags, then how many; a dry run says it would.
func TestDeleted(t *testing.T) {
	gone := []registry.Deleted{{Digest: "sha256:1", Tags: []string{"1.4.2", "1.4"}}, {Digest: "sha256:2", Tags: []string{"sha-abc"}}}
	for _, tc := range []struct {
		gone   []registry.Deleted
		dryRun bool
		want   string
	}{
		{gone, false, "deleted sha256:1 (1.4.2, 1.4)\ndeleted sha256:2 (sha-abc)\ndeleted 2 images\n"},
		{gone[:1], true, "would delete sha256:1 (1.4.2, 1.4)\nwould delete 1 image\n"},
		{[]registry.Deleted{}, false, "deleted 0 images\n"},
		{[]registry.Deleted{{Digest: "sha256:3", Tags: []string{}, Subject: "sha256:0123456789abcdef0123"}}, false, "deleted sha256:3 (refers to sha256:0123456789ab)\ndeleted 1 image\n"},
		{[]registry.Deleted{{Digest: "sha256:4"}}, true, "would delete sha256:4 (untagged)\nwould delete 1 image\n"},
	} {
		var b strings.Builder
		require.NoError(t, Deleted(&b, tc.gone, tc.dryRun))
		assert.Equal(t, tc.want, b.String())
	}
}

// TestAuditAnnotations: the advisories of one manifest line make one annotation, worst first; at most
// MaxAnnotations are written, the last saying how many more the step summary has.
func TestAuditAnnotations(t *testing.T) {
	r := audit.Report{VulnDB: &audit.VulnDBInfo{URL: "file:///db"}}
	for i := range 26 {
		r.Vulnerabilities = append(r.Vulnerabilities, audit.Vulnerability{ID: fmt.Sprintf("GO-2026-%04d", i), Name: "golang.org/x/net", Version: "v0.1.0",
			Severity: []string{"low", "critical"}[i%2], File: "go.mod", Line: 5})
	}
	got := AuditAnnotations(&r, "high")
	require.Len(t, got, 1, "26 advisories on one line: one annotation")
	assert.Equal(t, ghactions.Error, got[0].Level, "one of them fails at high")
	assert.True(t, strings.HasPrefix(got[0].Message, "GO-2026-0001 (critical)"), "the worst first: %s", got[0].Message)
	assert.Equal(t, 26, strings.Count(got[0].Message, "\n")+1)

	r.Vulnerabilities = nil
	for i := range 15 {
		r.Vulnerabilities = append(r.Vulnerabilities, audit.Vulnerability{ID: fmt.Sprintf("GHSA-%d", i), Name: fmt.Sprintf("pkg%d", i), Version: "1.0.0",
			Severity: "low", File: "package.json", Line: i + 3})
	}
	r.Dependencies = []audit.Dependency{{Name: "old", Deprecated: "use new", File: "package.json", Line: 30}}
	got = AuditAnnotations(&r, "critical")
	require.Len(t, got, MaxAnnotations)
	assert.Equal(t, ghactions.Annotation{Level: ghactions.Warning, Title: "shipyard audit", Message: "and 7 more in the step summary"}, got[MaxAnnotations-1])
	assert.Equal(t, "GHSA-0 in pkg0@1.0.0", got[0].Title)

	md := AuditMarkdown(&r)
	assert.Equal(t, 15, strings.Count(md, "| GHSA-"), "the summary has the full table")
}
