package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// VulnDBOff is the VulnDB that checks no vulnerabilities.
const VulnDBOff = "off"

// Options are what Scan reads: the project, where versions and advisories come from, and what is ignored.
type Options struct {
	// Dir is the project: its go.mod and package.json, whichever are there, are audited.
	Dir string
	// VulnDB is the vulnerability database (DefaultVulnDB when ""), file://DIR, or VulnDBOff.
	VulnDB string
	// Getenv reads GOPROXY, GOPRIVATE, GONOPROXY and the variables .npmrc names (os.Getenv when nil).
	Getenv func(string) string
	// Client makes the requests (one with a minute's timeout when nil).
	Client *http.Client
	// Ignore marks the vulnerabilities these rules cover: reported, failing nothing.
	Ignore []IgnoreRule
}

// Report is what Scan found.
type Report struct {
	Dependencies    []Dependency    `json:"dependencies"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
	// VulnDB is the database the vulnerabilities come from; nil when none was read.
	VulnDB *VulnDBInfo `json:"vuln_db,omitempty"`
}

// VulnDBInfo names a vulnerability database and when it last changed (zero when it does not say).
type VulnDBInfo struct {
	URL      string    `json:"url"`
	Modified time.Time `json:"modified,omitzero"`
}

// Scan reads the project's dependencies, the versions each could move to, and the advisories of the
// vulnerability database that affect the versions in use.
func Scan(ctx context.Context, o Options) (*Report, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: time.Minute}
	}
	if o.VulnDB == "" {
		o.VulnDB = DefaultVulnDB
	}
	deps, err := dependencies(ctx, o)
	if err != nil {
		return nil, err
	}
	r := &Report{Dependencies: deps, Vulnerabilities: []Vulnerability{}}
	if o.VulnDB == VulnDBOff {
		return r, nil
	}
	db, err := OpenVulnDB(o.VulnDB, o.Client)
	if err != nil {
		return nil, err
	}
	modified, err := db.Modified(ctx)
	if err != nil {
		return nil, err
	}
	r.VulnDB = &VulnDBInfo{URL: o.VulnDB, Modified: modified}
	found, err := Vulnerabilities(ctx, db, deps)
	if err != nil {
		return nil, err
	}
	for i, v := range found {
		if rule, ok := MatchIgnore(o.Ignore, v.Name, v.Version); ok {
			found[i].Ignored = rule.Reason
		}
	}
	r.Vulnerabilities = append(r.Vulnerabilities, found...)
	return r, nil
}

// dependencies reads go.mod and package.json in the project, whichever are there.
func dependencies(ctx context.Context, o Options) ([]Dependency, error) {
	var deps []Dependency
	found := false
	if exists(filepath.Join(o.Dir, "go.mod")) {
		found = true
		m, err := ReadGoMod(filepath.Join(o.Dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		m.File = "go.mod"
		proxy, err := NewGoProxy(o.Getenv, o.Client)
		if err != nil {
			return nil, err
		}
		goDeps, err := OutdatedGo(ctx, m, proxy)
		if err != nil {
			return nil, err
		}
		deps = append(deps, goDeps...)
	}
	if exists(filepath.Join(o.Dir, "package.json")) {
		found = true
		p, err := ReadNpmProject(o.Dir)
		if err != nil {
			return nil, err
		}
		p.File = "package.json"
		reg, err := NewNpmRegistry(o.Dir, o.Getenv, o.Client)
		if err != nil {
			return nil, err
		}
		npmDeps, err := OutdatedNpm(ctx, p, reg)
		if err != nil {
			return nil, err
		}
		deps = append(deps, npmDeps...)
	}
	if !found {
		return nil, &InputError{Msg: fmt.Sprintf("no go.mod or package.json in %s", o.Dir)}
	}
	return deps, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// Failing are the vulnerabilities that fail an audit at level (low, moderate, high or critical; "none"
// fails nothing): those of that severity or above, and those the database rates "unknown", but not the
// ignored ones.
func (r *Report) Failing(level string) []Vulnerability {
	var out []Vulnerability
	for _, v := range r.Vulnerabilities {
		if v.Fails(level) {
			out = append(out, v)
		}
	}
	return out
}

// Fails says whether v fails an audit at level: not ignored, and of that severity or above or "unknown".
func (v Vulnerability) Fails(level string) bool {
	return level != "none" && v.Ignored == "" && (v.Severity == "unknown" || SeverityRank(v.Severity) >= SeverityRank(level))
}

// Unchecked are the dependencies whose versions could not be looked up (the proxy or the registry
// failed): a report with any is incomplete, and an audit of it fails whatever its threshold.
func (r *Report) Unchecked() []Dependency {
	var out []Dependency
	for _, d := range r.Dependencies {
		if d.Error != "" {
			out = append(out, d)
		}
	}
	return out
}

// IncompleteError is a report with dependencies that could not be looked up.
type IncompleteError struct{ Unchecked []Dependency }

func (e *IncompleteError) Error() string {
	n := "1 dependency"
	if len(e.Unchecked) != 1 {
		n = fmt.Sprintf("%d dependencies", len(e.Unchecked))
	}
	return fmt.Sprintf("the audit is incomplete: the versions of %s could not be looked up (%s: %s)", n, e.Unchecked[0].Name, e.Unchecked[0].Error)
}

// Incomplete is an IncompleteError when the report has unchecked dependencies, else nil.
func (r *Report) Incomplete() error {
	if u := r.Unchecked(); len(u) > 0 {
		return &IncompleteError{Unchecked: u}
	}
	return nil
}

// Outdated are the dependencies that have a newer version.
func (r *Report) Outdated() []Dependency {
	var out []Dependency
	for _, d := range r.Dependencies {
		if d.Update != UpdateNone {
			out = append(out, d)
		}
	}
	return out
}
