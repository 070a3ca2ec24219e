package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// bulkAdvisoryPath is the npm registry's bulk advisory endpoint, which npm audit asks.
const bulkAdvisoryPath = "-/npm/v1/security/advisories/bulk"

// npmAdvisory is one advisory of the bulk endpoint's answer.
type npmAdvisory struct {
	ID                 int64  `json:"id"`
	URL                string `json:"url"`
	Title              string `json:"title"`
	Severity           string `json:"severity"`
	VulnerableVersions string `json:"vulnerable_versions"`
}

// BulkAdvisoryURL is where the default registry answers what npm audit asks.
func (r *NpmRegistry) BulkAdvisoryURL() string { return r.Registry + bulkAdvisoryPath }

// NpmVulnerabilities asks the default registry's bulk advisory endpoint, as npm audit does, about the
// installed versions of deps, and returns the advisories that affect them, with npm's severities. The
// advisory's id is its GitHub advisory (GHSA-…) when its URL names one.
func (r *NpmRegistry) NpmVulnerabilities(ctx context.Context, deps []Dependency) ([]Vulnerability, error) {
	query := map[string][]string{}
	for _, d := range deps {
		if d.Current != "" && !slices.Contains(query[d.Name], d.Current) {
			query[d.Name] = append(query[d.Name], d.Current)
		}
	}
	if len(query) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(query)
	if err != nil {
		return nil, err
	}
	u := r.BulkAdvisoryURL()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token := r.Token(req.URL); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("asking %s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("asking %s: %w", u, err)
	}
	var answer map[string][]npmAdvisory
	if err := json.Unmarshal(data, &answer); err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", u, err)
	}
	var out []Vulnerability
	for _, d := range deps {
		for _, a := range answer[d.Name] {
			c, err := semver.NewConstraint(a.VulnerableVersions)
			v, verr := semver.NewVersion(d.Current)
			if err != nil || verr != nil || !c.Check(v) {
				continue
			}
			id := fmt.Sprintf("npm-%d", a.ID)
			if base := path.Base(a.URL); strings.HasPrefix(base, "GHSA-") {
				id = base
			}
			sev := strings.ToLower(a.Severity)
			if !slices.Contains(severities, sev) {
				sev = "unknown"
			}
			out = append(out, Vulnerability{ID: id, Aliases: []string{}, Ecosystem: Npm, Name: d.Name, Version: d.Current, Severity: sev,
				Fixed: fixedAbove(a.VulnerableVersions), Summary: a.Title, URL: a.URL, File: d.File, Line: d.Line})
		}
	}
	return out, nil
}

// fixedAbove is the version a range "<X" or "<=Y" (or ">=A <X") ends below: X, the first version
// without the vulnerability; "" when the range does not say.
func fixedAbove(vulnerable string) string {
	fields := strings.Fields(vulnerable)
	if len(fields) == 0 {
		return ""
	}
	if last, ok := strings.CutPrefix(fields[len(fields)-1], "<"); ok && !strings.HasPrefix(last, "=") {
		return last
	}
	return ""
}
