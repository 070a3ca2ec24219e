package audit

import (
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
	gosemver "golang.org/x/mod/semver"
)

// OSV is an advisory in the Open Source Vulnerability format (https://ossf.github.io/osv-schema/), the
// format of the Go vulnerability database, GitHub's advisories and osv.dev.
type OSV struct {
	ID      string   `json:"id"`
	Aliases []string `json:"aliases"`
	Summary string   `json:"summary"`
	Details string   `json:"details"`
	// Withdrawn is when the advisory was withdrawn: it no longer applies to anything.
	Withdrawn        string        `json:"withdrawn,omitempty"`
	Affected         []OSVAffected `json:"affected"`
	Severity         []OSVSeverity `json:"severity"`
	DatabaseSpecific struct {
		Severity string `json:"severity"` // GitHub: LOW, MODERATE, HIGH, CRITICAL
		URL      string `json:"url"`
	} `json:"database_specific"`
}

// OSVAffected is a package an advisory affects, and which of its versions.
type OSVAffected struct {
	Package struct {
		Name      string `json:"name"`
		Ecosystem string `json:"ecosystem"` // Go, npm
	} `json:"package"`
	Ranges   []OSVRange    `json:"ranges"`
	Versions []string      `json:"versions"`
	Severity []OSVSeverity `json:"severity"`
}

// OSVRange is a list of events: versions where the vulnerability was introduced, fixed, or last seen.
type OSVRange struct {
	Type   string     `json:"type"` // SEMVER, ECOSYSTEM, GIT
	Events []OSVEvent `json:"events"`
}

// OSVEvent is one event of a range; exactly one field is set.
type OSVEvent struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// OSVSeverity is a severity score, such as a CVSS vector.
type OSVSeverity struct {
	Type  string `json:"type"` // CVSS_V3, CVSS_V4
	Score string `json:"score"`
}

// ecosystemName is the OSV name of an ecosystem of this package (go → Go).
func ecosystemName(ecosystem Ecosystem) string {
	if ecosystem == Go {
		return "Go"
	}
	return string(ecosystem)
}

// Affects reports whether the advisory affects version of the package, and the version that fixes it
// ("" when none does yet). Go versions may be given with or without their "v".
func (o *OSV) Affects(ecosystem Ecosystem, name, version string) (affected bool, fixed string) {
	v := parseVersion(ecosystem, version)
	if v == nil {
		return false, ""
	}
	for _, a := range o.Affected {
		if a.Package.Ecosystem != ecosystemName(ecosystem) || a.Package.Name != name {
			continue
		}
		if slices.ContainsFunc(a.Versions, func(s string) bool { w := parseVersion(ecosystem, s); return w != nil && w.Equal(v) }) {
			return true, firstFixedAfter(ecosystem, a.Ranges, v)
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" && r.Type != "ECOSYSTEM" {
				continue
			}
			if inRange(ecosystem, r, v) {
				return true, firstFixedAfter(ecosystem, []OSVRange{r}, v)
			}
		}
	}
	return false, ""
}

// inRange evaluates a range's events in version order, as the OSV schema says: at or after an
// introduced event the version is affected, at or after a fixed or limit event it is not, and after a
// last_affected event it is not.
func inRange(ecosystem Ecosystem, r OSVRange, v *semver.Version) bool {
	type event struct {
		at   *semver.Version // nil: "0", before everything
		kind string
	}
	var events []event
	for _, e := range r.Events {
		kind, raw := "introduced", e.Introduced
		switch {
		case e.Fixed != "":
			kind, raw = "fixed", e.Fixed
		case e.LastAffected != "":
			kind, raw = "last_affected", e.LastAffected
		case e.Limit != "":
			kind, raw = "limit", e.Limit
		}
		var at *semver.Version
		if raw != "0" && raw != "*" {
			if at = parseVersion(ecosystem, raw); at == nil {
				continue
			}
		}
		events = append(events, event{at, kind})
	}
	slices.SortStableFunc(events, func(a, b event) int {
		switch {
		case a.at == nil && b.at == nil:
			return 0
		case a.at == nil:
			return -1
		case b.at == nil:
			return 1
		}
		return a.at.Compare(b.at)
	})
	affected := false
	for _, e := range events {
		switch e.kind {
		case "introduced":
			if e.at == nil || !v.LessThan(e.at) {
				affected = true
			}
		case "fixed", "limit":
			if e.at != nil && !v.LessThan(e.at) {
				affected = false
			}
		case "last_affected":
			if e.at != nil && v.GreaterThan(e.at) {
				affected = false
			}
		}
	}
	return affected
}

// firstFixedAfter is the lowest fixed version above v in the ranges.
func firstFixedAfter(ecosystem Ecosystem, ranges []OSVRange, v *semver.Version) string {
	var best *semver.Version
	raw := ""
	for _, r := range ranges {
		for _, e := range r.Events {
			if e.Fixed == "" {
				continue
			}
			f := parseVersion(ecosystem, e.Fixed)
			if f != nil && f.GreaterThan(v) && (best == nil || f.LessThan(best)) {
				best, raw = f, e.Fixed
			}
		}
	}
	return raw
}

// parseVersion reads a version of the ecosystem: Go's with or without "v", npm's as they are.
func parseVersion(ecosystem Ecosystem, s string) *semver.Version {
	if ecosystem == Go {
		s = "v" + strings.TrimPrefix(s, "v")
		if !gosemver.IsValid(s) {
			return nil
		}
	}
	v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return nil
	}
	return v
}

// Severities, lowest first.
var severities = []string{"low", "moderate", "high", "critical"}

// SeverityRank orders severities: unknown 0, low 1 … critical 4.
func SeverityRank(s string) int { return slices.Index(severities, s) + 1 }

// severity is the advisory's severity: GitHub's database severity, else the CVSS base score's rating,
// else "unknown" (the Go database rates nothing).
func (o *OSV) severity() string {
	if s := strings.ToLower(o.DatabaseSpecific.Severity); slices.Contains(severities, s) {
		return s
	}
	if s, ok := strings.CutPrefix(strings.ToLower(o.DatabaseSpecific.Severity), "medium"); ok && s == "" {
		return "moderate"
	}
	scores := o.Severity
	for _, a := range o.Affected {
		scores = append(scores, a.Severity...)
	}
	for _, s := range scores {
		if s.Type == "CVSS_V3" || s.Type == "CVSS_V4" {
			if score, ok := cvssScore(s.Score); ok {
				return rating(score)
			}
		}
	}
	return "unknown"
}

// rating is CVSS's qualitative rating of a base score, with GitHub's name for medium.
func rating(score float64) string {
	switch {
	case score >= 9:
		return "critical"
	case score >= 7:
		return "high"
	case score >= 4:
		return "moderate"
	case score > 0:
		return "low"
	}
	return "unknown"
}

// cvssScore is the base score of a CVSS 3.0, 3.1 or 4.0 vector.
func cvssScore(vector string) (float64, bool) {
	switch {
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		if c, err := gocvss31.ParseVector(vector); err == nil {
			return c.BaseScore(), true
		}
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		if c, err := gocvss30.ParseVector(vector); err == nil {
			return c.BaseScore(), true
		}
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		if c, err := gocvss40.ParseVector(vector); err == nil {
			return c.Score(), true
		}
	}
	return 0, false
}
