package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	// Scan is how deep govulncheck looks for Go vulnerabilities; "" is ScanSymbol, and ScanModule when
	// the packages cannot be loaded.
	Scan ScanLevel
	// FailUnreachable counts the Go vulnerabilities that are not called (only imported or required)
	// when the report says what fails; by default only the called ones do, where the scan could tell.
	FailUnreachable bool
	// RuntimeDB is where the Go and Node.js release data come from: "" for go.dev's release list and the
	// Node.js release schedule over HTTPS, a directory (file://DIR) of go.json and node.json, or "off".
	RuntimeDB string
	// Now is the day the Node.js schedule is read on (time.Now when zero).
	Now time.Time
}

// Report is what Scan found.
type Report struct {
	Dependencies    []Dependency    `json:"dependencies"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
	// VulnDB is the database the vulnerabilities come from; nil when none was read.
	VulnDB *VulnDBInfo `json:"vuln_db,omitempty"`
	// GoScan is how the Go vulnerabilities were found: govulncheck's scan level, or "go.mod" when
	// govulncheck could not load the module and go.mod's requirements were matched instead (GoScanNote
	// says why); "" without a go.mod or a database.
	GoScan     string `json:"go_scan,omitempty"`
	GoScanNote string `json:"go_scan_note,omitempty"`
	// BuildListNote says why the Go dependencies are go.mod's requirements alone, not the whole build
	// list; "" when they are the build list.
	BuildListNote string `json:"build_list_note,omitempty"`
	// Runtimes are the project's Go and Node.js releases in their support windows; RuntimeNote says why
	// they were not checked.
	Runtimes    []Runtime `json:"runtimes"`
	RuntimeNote string    `json:"runtime_note,omitempty"`
	// VulnSources name where each ecosystem's advisories came from: the Go database, the directory of
	// OSV files, or the npm registry's bulk advisory endpoint (what npm audit asks).
	VulnSources map[Ecosystem]string `json:"vuln_sources,omitempty"`
	// failUnreachable is Options.FailUnreachable.
	failUnreachable bool
}

// withLockTree is deps and, after them, every other package of the lockfile (the dependencies of
// dependencies), named by package-lock.json: npm audit asks about the whole tree.
func withLockTree(dir string, deps []Dependency) []Dependency {
	have := map[string]bool{}
	for _, d := range deps {
		have[d.Name+"@"+d.Current] = true
	}
	out := slices.Clone(deps)
	tree := lockTree(dir)
	for _, name := range slices.Sorted(maps.Keys(tree)) {
		for _, v := range tree[name] {
			if !have[name+"@"+v] {
				out = append(out, Dependency{Ecosystem: Npm, Name: name, Current: v, Type: Indirect, File: "package-lock.json"})
			}
		}
	}
	return out
}

func (r *Report) setSource(e Ecosystem, source string) {
	if r.VulnSources == nil {
		r.VulnSources = map[Ecosystem]string{}
	}
	r.VulnSources[e] = source
}

// EndOfLife are the runtimes whose releases are no longer supported.
func (r *Report) EndOfLife() []Runtime {
	var out []Runtime
	for _, rt := range r.Runtimes {
		if rt.EndOfLife() {
			out = append(out, rt)
		}
	}
	return out
}

// VulnDBInfo names a vulnerability database and when it last changed (zero when it does not say).
type VulnDBInfo struct {
	URL      string    `json:"url"`
	Modified time.Time `json:"modified,omitzero"`
}

// defaults fills what the options leave unset: the process's environment, a client with a minute's
// timeout, the Go vulnerability database.
func (o *Options) defaults() {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Client == nil {
		// Lookups run 16 at a time: keep that many connections to the proxy open between them (the
		// default transport keeps 2, and closes, then handshakes again, the rest).
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = lookups
		o.Client = &http.Client{Timeout: time.Minute, Transport: t}
	}
	if o.VulnDB == "" {
		o.VulnDB = DefaultVulnDB
	}
}

// Scan reads the project's dependencies, the versions each could move to, and the advisories of the
// vulnerability database that affect the versions in use.
func Scan(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	if _, ok := ParseScanLevel(string(o.Scan)); !ok && o.Scan != "" {
		return nil, &InputError{Option: "audit.Scan", Msg: fmt.Sprintf("%q is not module, package or symbol", o.Scan)}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	// The runtimes' release data comes from the network while the go command reads the build list.
	type runtimesRead struct {
		rs   []Runtime
		note string
		err  error
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read := make(chan runtimesRead, 1)
	go func() {
		var rr runtimesRead
		rr.rs, rr.note, rr.err = runtimes(rctx, o)
		read <- rr
	}()
	deps, note, err := dependencies(ctx, o)
	if err != nil {
		return nil, err
	}
	r := &Report{Dependencies: deps, Vulnerabilities: []Vulnerability{}, BuildListNote: note, failUnreachable: o.FailUnreachable}
	rr := <-read
	if rr.err != nil {
		return nil, rr.err
	}
	r.Runtimes, r.RuntimeNote = rr.rs, rr.note
	if o.VulnDB == VulnDBOff {
		return r, nil
	}
	var goDeps, npmDeps []Dependency
	for _, d := range deps {
		if d.Ecosystem == Go {
			goDeps = append(goDeps, d)
		} else {
			npmDeps = append(npmDeps, d)
		}
	}
	var found []Vulnerability
	if exists(filepath.Join(o.Dir, "go.mod")) || strings.HasPrefix(o.VulnDB, "file://") {
		db, err := OpenVulnDB(o.VulnDB, o.Client)
		if err != nil {
			return nil, err
		}
		modified, err := db.Modified(ctx)
		if err != nil {
			return nil, err
		}
		r.VulnDB = &VulnDBInfo{URL: o.VulnDB, Modified: modified}
		if exists(filepath.Join(o.Dir, "go.mod")) {
			if found, err = r.goVulnerabilities(ctx, o, db, goDeps); err != nil {
				return nil, err
			}
			r.setSource(Go, o.VulnDB)
		}
		if strings.HasPrefix(o.VulnDB, "file://") && len(npmDeps) > 0 {
			npmVulns, err := Vulnerabilities(ctx, db, npmDeps)
			if err != nil {
				return nil, err
			}
			found = append(found, npmVulns...)
			r.setSource(Npm, o.VulnDB)
		}
	}
	if exists(filepath.Join(o.Dir, "package.json")) && !strings.HasPrefix(o.VulnDB, "file://") {
		// npm's advisories come from the registry .npmrc names, as npm audit asks it.
		reg, err := NewNpmRegistry(o.Dir, o.Getenv, o.Client)
		if err != nil {
			return nil, err
		}
		npmVulns, err := reg.NpmVulnerabilities(ctx, withLockTree(o.Dir, npmDeps))
		if err != nil {
			return nil, fmt.Errorf("the npm advisories: %w", err)
		}
		found = append(found, npmVulns...)
		r.setSource(Npm, reg.BulkAdvisoryURL())
		if r.VulnDB == nil {
			r.VulnDB = &VulnDBInfo{URL: reg.BulkAdvisoryURL()}
		}
	}
	for i, v := range found {
		if rule, ok := MatchIgnore(o.Ignore, v.Name, v.Version); ok {
			found[i].Ignored = rule.Reason
		}
	}
	r.Vulnerabilities = append(r.Vulnerabilities, found...)
	return r, nil
}

// goVulnerabilities runs govulncheck at the options' level (symbol by default, module when the packages
// cannot be loaded), and places each finding on the go.mod line of its module. When govulncheck cannot
// load the module at all (no go.sum, modules that cannot be fetched), go.mod's requirements are matched
// against the database instead, and the report says so.
func (r *Report) goVulnerabilities(ctx context.Context, o Options, db *VulnDB, deps []Dependency) ([]Vulnerability, error) {
	levels := []ScanLevel{o.Scan}
	if o.Scan == "" {
		levels = []ScanLevel{ScanSymbol, ScanModule}
	}
	var scanErr *goScanError
	for _, level := range levels {
		found, err := govulncheck(ctx, o.Dir, db.URL(), level, o.Getenv)
		if errors.As(err, &scanErr) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.GoScan = string(level)
		lines := map[string]int{}
		for _, d := range deps {
			lines[d.Name] = d.Line
		}
		for i := range found {
			found[i].File, found[i].Line = "go.mod", lines[found[i].Name]
		}
		return found, nil
	}
	r.GoScan, r.GoScanNote = "go.mod", "govulncheck could not load the module, so go.mod's requirements were matched instead: "+firstLine(scanErr.msg)
	return Vulnerabilities(ctx, db, deps)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// dependencies reads go.mod and package.json in the project, whichever are there.
func dependencies(ctx context.Context, o Options) (deps []Dependency, buildListNote string, err error) {
	found := false
	if exists(filepath.Join(o.Dir, "go.mod")) {
		found = true
		m, err := ReadGoMod(filepath.Join(o.Dir, "go.mod"))
		if err != nil {
			return nil, "", err
		}
		m.File = "go.mod"
		// The proxy, the private modules and the module cache the go command uses, go env -w's too.
		getenv := goCommandEnv(ctx, o.Dir, o.Getenv)
		proxy, err := NewGoProxy(getenv, o.Client)
		if err != nil {
			return nil, "", err
		}
		ahead := proxy.startReadAhead(ctx, m, getenv)
		list, err := buildList(ctx, o.Dir, m, ahead.getenv)
		if err == nil {
			m.Requires = list
		} else {
			buildListNote = "the build list could not be read, so go.mod's requirements are audited alone: " + ahead.scrub(err.Error())
		}
		goDeps, err := OutdatedGo(ctx, m, proxy)
		ahead.end()
		if err != nil {
			return nil, "", err
		}
		deps = append(deps, goDeps...)
	}
	if exists(filepath.Join(o.Dir, "package.json")) {
		found = true
		p, err := ReadNpmProject(o.Dir)
		if err != nil {
			return nil, "", err
		}
		p.File = "package.json"
		reg, err := NewNpmRegistry(o.Dir, o.Getenv, o.Client)
		if err != nil {
			return nil, "", err
		}
		npmDeps, err := OutdatedNpm(ctx, p, reg)
		if err != nil {
			return nil, "", err
		}
		deps = append(deps, npmDeps...)
	}
	if !found {
		return nil, "", &InputError{Msg: fmt.Sprintf("no go.mod or package.json in %s", o.Dir)}
	}
	return deps, buildListNote, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// Failing are the vulnerabilities that fail an audit at level (low, moderate, high or critical; "none"
// fails nothing): those of that severity or above, and those the database rates "unknown", but not the
// ignored ones, nor, unless FailUnreachable, the Go ones that a symbol scan found not called (or a
// package scan not imported).
func (r *Report) Failing(level string) []Vulnerability {
	var out []Vulnerability
	for _, v := range r.Vulnerabilities {
		if r.Fails(v, level) {
			out = append(out, v)
		}
	}
	return out
}

// Fails says whether v fails an audit of this report at level.
func (r *Report) Fails(v Vulnerability, level string) bool {
	if !v.Fails(level) {
		return false
	}
	switch {
	case r.failUnreachable || v.Reachable == "" || v.Reachable == Called:
		return true
	case v.Reachable == Imported:
		return r.GoScan != string(ScanSymbol)
	}
	return r.GoScan == string(ScanModule)
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
