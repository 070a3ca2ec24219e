package audit

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bulkAdvisories answers the npm registry's bulk advisory endpoint from the real GitHub advisories of
// testdata/osv (GHSA-*.json), in the form the public registry answers: for each package asked about, the
// advisories that affect one of the versions asked, with their vulnerable range and severity.
func bulkAdvisories(t *testing.T, w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	var asked map[string][]string
	if err := json.NewDecoder(body).Decode(&asked); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "osv", "GHSA-*.json"))
	answer := map[string][]map[string]any{}
	for i, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var o OSV
		if json.Unmarshal(data, &o) != nil {
			continue
		}
		for _, a := range o.Affected {
			versions, ok := asked[a.Package.Name]
			if a.Package.Ecosystem != "npm" || !ok {
				continue
			}
			if !slices.ContainsFunc(versions, func(v string) bool { affected, _ := o.Affects(Npm, a.Package.Name, v); return affected }) {
				continue
			}
			answer[a.Package.Name] = append(answer[a.Package.Name], map[string]any{
				"id": 1000 + i, "url": "https://github.com/advisories/" + o.ID, "title": o.Summary,
				"severity": strings.ToLower(o.DatabaseSpecific.Severity), "vulnerable_versions": npmRange(a.Ranges), "cwe": []string{}})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

// npmRange writes OSV ranges as the npm range of the vulnerable versions.
func npmRange(ranges []OSVRange) string {
	var parts []string
	for _, r := range ranges {
		var lo, hi string
		for _, e := range r.Events {
			switch {
			case e.Introduced != "" && e.Introduced != "0":
				lo = ">=" + e.Introduced
			case e.Fixed != "":
				hi = "<" + e.Fixed
			case e.LastAffected != "":
				hi = "<=" + e.LastAffected
			}
		}
		parts = append(parts, strings.TrimSpace(lo+" "+hi))
	}
	return strings.Join(parts, " || ")
}

// TestNpmAdvisoriesEqualNpmAudit: with no OSV directory, the npm advisories come from the bulk endpoint
// of the registry .npmrc names, and are the ones npm audit --json reports for the same lockfile, for a
// dependency and for a dependency of a dependency.
func TestNpmAdvisoriesEqualNpmAudit(t *testing.T) {
	for name, deps := range map[string]map[string]string{
		"direct":     {"lodash": "4.17.20", "left-pad": "1.1.0"},
		"transitive": {"wrapper": "1.0.0", "left-pad": "1.1.0"},
	} {
		t.Run(name, func(t *testing.T) { npmAdvisoriesEqualNpmAudit(t, deps) })
	}
}

func npmAdvisoriesEqualNpmAudit(t *testing.T, deps map[string]string) {
	srv := fakeNpmRegistry(t)
	dir := npmProject(t, srv, deps)
	npm(t, dir, nil, "install", "--ignore-scripts")
	out := npm(t, dir, []int{1}, "audit", "--json")
	var audited struct {
		Vulnerabilities map[string]struct {
			Via []json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(out, &audited), "%s", out)
	var want []string
	for name, v := range audited.Vulnerabilities {
		for _, via := range v.Via {
			var adv struct{ URL string }
			if json.Unmarshal(via, &adv) == nil && adv.URL != "" {
				want = append(want, name+" "+filepath.Base(adv.URL))
			}
		}
	}
	require.NotEmpty(t, want, "npm audit finds the advisory")

	env := map[string]string{"TEST_NPM_TOKEN": npmToken}
	r, err := Scan(context.Background(), Options{Dir: dir, Getenv: func(k string) string { return env[k] }, Client: srv.Client(), RuntimeDB: "off"})
	require.NoError(t, err)
	var got []string
	for _, v := range r.Vulnerabilities {
		got = append(got, v.Name+" "+v.ID)
		assert.Equal(t, "high", v.Severity, "npm's severity")
		assert.Equal(t, "4.17.21", v.Fixed)
	}
	slices.Sort(want)
	slices.Sort(got)
	assert.Equal(t, want, got)
	assert.Equal(t, srv.URL+"/-/npm/v1/security/advisories/bulk", r.VulnSources[Npm], "the report names its source")
}
