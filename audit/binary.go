package audit

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"path"
	"strings"
)

// Binary is a Go binary to audit: where it is on disk, and the name to report it by (its path in the
// image, /app/hello).
type Binary struct {
	Path, Name string
}

// NpmTree is a Node.js application found in an image: a directory (on disk) holding its package.json
// and the lockfile of what is installed (package-lock.json, or npm's node_modules/.package-lock.json
// copied as package-lock.json), and its path in the image.
type NpmTree struct {
	Dir, Name string
}

// IsGoBinary says whether the file at path is a Go binary with build information.
func IsGoBinary(path string) bool {
	_, err := buildinfo.ReadFile(path)
	return err == nil
}

// ScanBinaries audits Go binaries as they ship, as govulncheck -mode binary does: the modules and the
// Go version in each binary's build information, their upgrades (through the GOPROXY, as Scan), and the
// vulnerabilities govulncheck finds in the binary's code. Dependencies and findings name the binary as
// their file. o.Dir, Scan and FailUnreachable are not used.
func ScanBinaries(ctx context.Context, o Options, bins []Binary, trees ...NpmTree) (*Report, error) {
	if len(bins)+len(trees) == 0 {
		return nil, &InputError{Option: "audit.Image", Msg: "the image holds no Go binary and no Node.js application with a lockfile"}
	}
	o.defaults()
	r := &Report{Dependencies: []Dependency{}, Vulnerabilities: []Vulnerability{}, Runtimes: []Runtime{}, GoScan: "binary"}
	proxy, err := NewGoProxy(o.Getenv, o.Client)
	if err != nil {
		return nil, err
	}
	var db *VulnDB
	if o.VulnDB != VulnDBOff {
		if db, err = OpenVulnDB(o.VulnDB, o.Client); err != nil {
			return nil, err
		}
		modified, err := db.Modified(ctx)
		if err != nil {
			return nil, err
		}
		r.VulnDB = &VulnDBInfo{URL: o.VulnDB, Modified: modified}
	}
	for _, b := range bins {
		info, err := buildinfo.ReadFile(b.Path)
		if err != nil {
			return nil, fmt.Errorf("reading the build information of %s: %w", b.Name, err)
		}
		m := &GoModule{File: b.Name, Path: info.Main.Path}
		for _, d := range info.Deps {
			v := d
			if d.Replace != nil {
				v = d.Replace
			}
			m.Requires = append(m.Requires, GoRequire{Path: v.Path, Version: v.Version, Indirect: true})
		}
		deps, err := OutdatedGo(ctx, m, proxy)
		if err != nil {
			return nil, err
		}
		r.Dependencies = append(r.Dependencies, deps...)
		if db == nil {
			continue
		}
		found, err := govulncheckBinary(ctx, b.Path, db.URL(), o.Getenv)
		if err != nil {
			return nil, fmt.Errorf("scanning %s: %w", b.Name, err)
		}
		for i := range found {
			found[i].File = b.Name
			if rule, ok := MatchIgnore(o.Ignore, found[i].Name, found[i].Version); ok {
				found[i].Ignored = rule.Reason
			}
		}
		r.Vulnerabilities = append(r.Vulnerabilities, found...)
	}
	for _, tree := range trees {
		if err := r.scanNpmTree(ctx, o, db, tree); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// scanNpmTree audits a Node.js application of an image as Scan audits a project's: its dependencies'
// versions through the registries of o.Dir's .npmrc, and their advisories from the OSV directory db (a
// file:// database) or the registry's bulk endpoint, over the whole installed tree.
func (r *Report) scanNpmTree(ctx context.Context, o Options, db *VulnDB, tree NpmTree) error {
	p, err := ReadNpmProject(tree.Dir)
	if err != nil {
		return err
	}
	p.File = path.Join(tree.Name, "package.json")
	reg, err := NewNpmRegistry(o.Dir, o.Getenv, o.Client)
	if err != nil {
		return err
	}
	deps, err := OutdatedNpm(ctx, p, reg)
	if err != nil {
		return err
	}
	r.Dependencies = append(r.Dependencies, deps...)
	if db == nil {
		return nil
	}
	var found []Vulnerability
	if strings.HasPrefix(db.URL(), "file://") {
		found, err = Vulnerabilities(ctx, db, deps)
		r.setSource(Npm, db.URL())
	} else {
		found, err = reg.NpmVulnerabilities(ctx, withLockTree(tree.Dir, deps))
		r.setSource(Npm, reg.BulkAdvisoryURL())
	}
	if err != nil {
		return err
	}
	for i := range found {
		if rule, ok := MatchIgnore(o.Ignore, found[i].Name, found[i].Version); ok {
			found[i].Ignored = rule.Reason
		}
	}
	r.Vulnerabilities = append(r.Vulnerabilities, found...)
	return nil
}

// govulncheckBinary runs govulncheck -mode binary on the binary at path: the symbols it holds are what
// it calls.
func govulncheckBinary(ctx context.Context, path, dbURL string, getenv func(string) string) ([]Vulnerability, error) {
	found, err := runGovulncheck(ctx, []string{"-mode", "binary", "-db", dbURL, "-format", "json", path}, getenv)
	var scanErr *goScanError
	if errors.As(err, &scanErr) {
		return nil, errors.New(scanErr.msg)
	}
	return found, err
}
