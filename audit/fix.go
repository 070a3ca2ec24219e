package audit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	gosemver "golang.org/x/mod/semver"
)

// FixOptions says which updates audit fix makes.
type FixOptions struct {
	Level        UpdateKind // the largest move allowed: patch, minor or major
	SecurityOnly bool       // only updates that fix a vulnerability, to the lowest version that does
	// Groups gather updates into one change each, Dependabot style: the first group whose patterns (globs
	// on the package name, "*" for all) match takes the update; the others go in a group of their own.
	Groups []FixGroup
	Ignore []IgnoreRule
	// Allow lists the update types that may be made; none allows every type up to Level.
	Allow []UpdateKind
}

// ParseGroup reads a group as NAME=PATTERN[,PATTERN…].
func ParseGroup(s string) (FixGroup, error) {
	name, patterns, ok := strings.Cut(s, "=")
	if !ok || name == "" || patterns == "" {
		return FixGroup{}, &InputError{Option: "audit.Groups", Msg: fmt.Sprintf("%q is not NAME=PATTERN[,PATTERN]", s)}
	}
	return FixGroup{Name: name, Patterns: strings.Split(patterns, ",")}, nil
}

// FixGroup is a named set of packages updated together.
type FixGroup struct {
	Name     string   `yaml:"name"`
	Patterns []string `yaml:"patterns"`
}

// IgnoreRule keeps audit fix away from a package, or some of its versions, for a reason.
type IgnoreRule struct {
	Name     string // glob on the package name
	Versions string // a range of versions not to move to; "" for all
	Reason   string
}

// Update is one dependency move audit fix makes.
type Update struct {
	Ecosystem  Ecosystem  `json:"ecosystem"`
	Name       string     `json:"name"`
	From       string     `json:"from"`
	To         string     `json:"to"`
	Type       UpdateKind `json:"type"`
	Advisories []string   `json:"advisories"` // the vulnerabilities it fixes
	Group      string     `json:"group"`
	File       string     `json:"file"`
	Line       int        `json:"line"`
	rng        string     // npm: the range in package.json
}

// Skipped is a dependency audit fix leaves alone, and why.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// PlanFix chooses the updates: for each dependency the highest version the level allows, or with
// SecurityOnly the lowest that fixes its vulnerabilities. A Go module of the build list that go.mod does
// not require (no line) is updated only when that fixes an advisory.
func PlanFix(deps []Dependency, vulns []Vulnerability, o FixOptions) ([]Update, []Skipped) {
	var updates []Update
	var skipped []Skipped
	for _, d := range deps {
		if d.Error != "" || d.Current == "" {
			continue
		}
		var mine []Vulnerability
		for _, v := range vulns {
			if v.Ecosystem == d.Ecosystem && v.Name == d.Name && v.Version == d.Current {
				mine = append(mine, v)
			}
		}
		if len(mine) == 0 && (o.SecurityOnly || d.Ecosystem == Go && d.Line == 0) {
			continue // a module that go.mod does not require moves only to fix an advisory, as Dependabot's
		}
		candidates := slices.DeleteFunc(slices.Clone(d.Versions), func(v string) bool {
			return compare(d.Ecosystem, v, d.Current) <= 0 || !withinLevel(d.Ecosystem, d.Current, v, o.Level) ||
				isPrerelease(d.Ecosystem, v) && !isPrerelease(d.Ecosystem, d.Current) || ignored(o.Ignore, d.Name, v)
		})
		if len(candidates) == 0 {
			if len(mine) > 0 {
				skipped = append(skipped, Skipped{Name: d.Name, Reason: fmt.Sprintf("no %s update of %s fixes %s", o.Level, d.Current, mine[0].ID)})
			}
			continue
		}
		to := candidates[len(candidates)-1]
		if o.SecurityOnly {
			to = ""
			for _, c := range candidates {
				if fixesAll(d.Ecosystem, c, mine) {
					to = c
					break
				}
			}
			if to == "" {
				skipped = append(skipped, Skipped{Name: d.Name, Reason: fmt.Sprintf("no %s update of %s fixes every advisory", o.Level, d.Current)})
				continue
			}
		}
		u := Update{Ecosystem: d.Ecosystem, Name: d.Name, From: d.Current, To: to, Type: updateKind(d.Ecosystem, d.Current, to),
			Advisories: []string{}, File: d.File, Line: d.Line, rng: d.Range}
		for _, v := range mine {
			if v.Fixed != "" && compare(d.Ecosystem, to, v.Fixed) >= 0 {
				u.Advisories = append(u.Advisories, v.ID)
			}
		}
		if len(o.Allow) > 0 && !slices.Contains(o.Allow, u.Type) {
			continue
		}
		u.Group = groupOf(o.Groups, u)
		updates = append(updates, u)
	}
	return updates, skipped
}

func ignored(rules []IgnoreRule, name, version string) bool {
	_, ok := MatchIgnore(rules, name, version)
	return ok
}

// MatchIgnore finds the first rule that covers version of the package.
func MatchIgnore(rules []IgnoreRule, name, version string) (IgnoreRule, bool) {
	for _, r := range rules {
		if !nameMatch(r.Name, name) {
			continue
		}
		if r.Versions == "" {
			return r, true
		}
		c, err := semver.NewConstraint(r.Versions)
		v, verr := semver.NewVersion(version)
		if err == nil && verr == nil && c.Check(v) {
			return r, true
		}
	}
	return IgnoreRule{}, false
}

func groupOf(groups []FixGroup, u Update) string {
	for _, g := range groups {
		for _, p := range g.Patterns {
			if nameMatch(p, u.Name) {
				return g.Name
			}
		}
	}
	return string(u.Ecosystem) + ":" + u.Name
}

// nameMatch matches a package name against a Dependabot-style pattern: * stands for any run of
// characters, slashes included ("@types/*", "golang.org/x/*", "*").
func nameMatch(pattern, name string) bool {
	re, err := regexp.Compile("^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$")
	return err == nil && re.MatchString(name)
}

func fixesAll(ecosystem Ecosystem, version string, vulns []Vulnerability) bool {
	for _, v := range vulns {
		if v.Fixed == "" || compare(ecosystem, version, v.Fixed) < 0 {
			return false
		}
	}
	return true
}

func canonical(ecosystem Ecosystem, v string) string {
	if ecosystem == Go {
		return "v" + strings.TrimPrefix(v, "v")
	}
	return v
}

// compare orders two versions of an ecosystem.
func compare(ecosystem Ecosystem, a, b string) int {
	if ecosystem == Go {
		return gosemver.Compare(canonical(ecosystem, a), canonical(ecosystem, b))
	}
	va, ea := semver.StrictNewVersion(a)
	vb, eb := semver.StrictNewVersion(b)
	if ea != nil || eb != nil {
		return strings.Compare(a, b)
	}
	return va.Compare(vb)
}

func isPrerelease(ecosystem Ecosystem, v string) bool {
	if ecosystem == Go {
		return gosemver.Prerelease(v) != ""
	}
	sv, err := semver.StrictNewVersion(v)
	return err == nil && sv.Prerelease() != ""
}

// withinLevel reports whether moving from one version to another stays within level.
func withinLevel(ecosystem Ecosystem, from, to string, level UpdateKind) bool {
	switch updateKind(ecosystem, from, to) {
	case UpdatePatch:
		return true
	case UpdateMinor:
		return level == UpdateMinor || level == UpdateMajor
	}
	return level == UpdateMajor
}

func updateKind(ecosystem Ecosystem, from, to string) UpdateKind {
	if ecosystem == Go {
		return updateType(from, to)
	}
	return npmUpdateType(from, to)
}
