package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/sync/errgroup"
)

// Dependency is one dependency and the versions it could move to.
type Dependency struct {
	Ecosystem Ecosystem `json:"ecosystem"`
	Name      string    `json:"name"`
	Current   string    `json:"current"`
	// Wanted is the compatible upgrade (Go: the go command's, the Update of go list -m -u, on the same
	// module path; npm: what the range resolves to), else Current; Latest the newest of all, possibly
	// under a new major module path (LatestName).
	Wanted     string `json:"wanted"`
	Latest     string `json:"latest"`
	LatestName string `json:"latest_name,omitempty"`
	// LatestTag is npm's latest dist-tag, which Latest is unless the Node on PATH cannot run it.
	LatestTag string `json:"latest_tag,omitempty"`
	// Upgrade is what `go list -m -u` reports (Go only): the newest release, not retracted, when it is
	// newer than Current.
	Upgrade string         `json:"upgrade,omitempty"`
	Type    DependencyType `json:"type"`
	Update  UpdateKind     `json:"update"` // from Current to Latest
	// Deprecated is the module's or package's deprecation message; Retracted why Current was withdrawn.
	Deprecated string `json:"deprecated,omitempty"`
	Retracted  string `json:"retracted,omitempty"`
	// Backport is set when Latest was published before Current: an update that goes back in time.
	Backport bool   `json:"backport,omitempty"`
	Error    string `json:"error,omitempty"` // why the versions could not be read
	// NotChecked says why the versions were not looked up, on purpose (GOPROXY=off).
	NotChecked string `json:"not_checked,omitempty"`
	File       string `json:"file"`
	Line       int    `json:"line"`
	// Versions are the versions it may move to, lowest first: not retracted, excluded or deprecated.
	Versions []string `json:"-"`
	// Range is the package.json range (npm only), kept in form by audit fix.
	Range string `json:"-"`
}

// lookups is how many modules' versions are looked up at a time.
const lookups = 16

// OutdatedGo reads the versions of every requirement of m from the proxy, concurrently.
func OutdatedGo(ctx context.Context, m *GoModule, proxy *GoProxy) ([]Dependency, error) {
	deps := make([]Dependency, len(m.Requires))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookups)
	for i, r := range m.Requires {
		g.Go(func() error {
			d, err := goDependency(gctx, m, proxy, r)
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, ErrLookupsOff):
				d.NotChecked = ErrLookupsOff.Error()
			default:
				d.Error = err.Error()
			}
			deps[i] = d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return deps, nil
}

func goDependency(ctx context.Context, m *GoModule, proxy *GoProxy, r GoRequire) (Dependency, error) {
	d := Dependency{Ecosystem: Go, Name: r.Path, Current: r.Version, Type: Direct, Update: UpdateNone, File: m.File, Line: r.Line}
	if r.Indirect {
		d.Type = Indirect
	}
	versions, err := proxy.Versions(ctx, r.Path)
	if err != nil {
		return d, err
	}
	if versions, err = dropIncompatible(ctx, proxy, r.Path, versions); err != nil {
		return d, err
	}
	// The go.mod of the newest version says which versions are retracted and whether the module is
	// deprecated, as the go command reads it.
	newest := newestIgnoringRetractions(versions)
	var retractions []*modfile.Retract
	if newest != "" {
		data, err := proxy.Mod(ctx, r.Path, newest)
		if err != nil {
			return d, fmt.Errorf("reading the go.mod of %s@%s: %w", r.Path, newest, err)
		}
		if f, err := modfile.ParseLax(r.Path+"@"+newest+"/go.mod", data, nil); err == nil {
			retractions = f.Retract
			if f.Module != nil {
				d.Deprecated = f.Module.Deprecated
			}
		}
	}
	retracted := func(v string) (string, bool) {
		for _, rr := range retractions {
			if semver.Compare(rr.Low, v) <= 0 && semver.Compare(v, rr.High) <= 0 {
				return rr.Rationale, true
			}
		}
		return "", false
	}
	if why, ok := retracted(r.Version); ok {
		d.Retracted = why
		if d.Retracted == "" {
			d.Retracted = "retracted by the module's author"
		}
	}
	allowed := func(v string) bool {
		_, isRetracted := retracted(v)
		return !isRetracted && !m.Excluded[module.Version{Path: r.Path, Version: v}]
	}

	for _, v := range versions {
		if allowed(v) {
			d.Versions = append(d.Versions, v)
		}
	}

	// go list -m -u: the newest allowed release, else the newest allowed pre-release, else @latest.
	upgrade := newestWhere(versions, func(v string) bool { return allowed(v) && semver.Prerelease(v) == "" })
	if upgrade == "" {
		upgrade = newestWhere(versions, allowed)
	}
	if upgrade == "" && len(versions) == 0 {
		if info, err := proxy.Latest(ctx, r.Path); err == nil {
			upgrade = info.Version
		}
	}
	if upgrade != "" && semver.Compare(upgrade, r.Version) > 0 {
		d.Upgrade = upgrade
	}

	// Wanted: the go command's compatible upgrade (the Update of go list -m -u: the newest allowed version
	// of the same module path), else Current.
	d.Wanted = r.Version
	if d.Upgrade != "" {
		d.Wanted = d.Upgrade
	}
	d.Latest = d.Wanted
	if name, v, err := newMajor(ctx, proxy, r.Path, d.Latest); err != nil {
		return d, err
	} else if v != "" {
		d.LatestName, d.Latest = name, v
	}
	d.Update = updateType(r.Version, d.Latest)
	if d.Update != UpdateNone {
		cur, err1 := proxy.Info(ctx, r.Path, r.Version)
		next, err2 := proxy.Info(ctx, nameOr(d.LatestName, r.Path), d.Latest)
		if err1 == nil && err2 == nil && !next.Time.IsZero() && next.Time.Before(cur.Time) {
			d.Backport = true
		}
	}
	return d, nil
}

func nameOr(name, fallback string) string {
	if name != "" {
		return name
	}
	return fallback
}

// dropIncompatible leaves out the +incompatible versions (v2.0.0+incompatible: a v2 tag without a /v2
// path) when the newest compatible version has a go.mod of its own, as the go command does: the module
// has moved to modules, and those tags are not upgrades of it.
func dropIncompatible(ctx context.Context, proxy *GoProxy, path string, versions []string) ([]string, error) {
	compatible := slices.DeleteFunc(slices.Clone(versions), func(v string) bool { return semver.Build(v) == "+incompatible" })
	if len(compatible) == len(versions) {
		return versions, nil
	}
	newest := newestIgnoringRetractions(compatible)
	if newest == "" {
		return versions, nil
	}
	data, err := proxy.Mod(ctx, path, newest)
	if err != nil {
		return nil, fmt.Errorf("reading the go.mod of %s@%s: %w", path, newest, err)
	}
	// A proxy serves a version without a go.mod as the one line "module path".
	if strings.TrimSpace(string(data)) != "module "+modfile.AutoQuote(path) {
		return compatible, nil
	}
	return versions, nil
}

// newestIgnoringRetractions is the version whose go.mod the go command reads for retractions: the
// newest release, else the newest pre-release.
func newestIgnoringRetractions(versions []string) string {
	if v := newestWhere(versions, func(v string) bool { return semver.Prerelease(v) == "" }); v != "" {
		return v
	}
	return newestWhere(versions, func(string) bool { return true })
}

// newestWhere is the highest of the sorted versions that ok accepts.
func newestWhere(sorted []string, ok func(string) bool) string {
	for i := len(sorted) - 1; i >= 0; i-- {
		if ok(sorted[i]) {
			return sorted[i]
		}
	}
	return ""
}

// newMajor looks for the module under the next major paths (example.com/m/v3 after v2) and returns the
// newest path with a release, and that release.
func newMajor(ctx context.Context, proxy *GoProxy, path, current string) (string, string, error) {
	prefix, pathMajor, ok := module.SplitPathVersion(path)
	if !ok || strings.HasPrefix(path, "gopkg.in/") {
		return "", "", nil
	}
	major := 1
	if pathMajor != "" {
		major, _ = strconv.Atoi(strings.TrimPrefix(pathMajor, "/v"))
	}
	if m, err := strconv.Atoi(strings.TrimPrefix(semver.Major(current), "v")); err == nil && m > major {
		major = m
	}
	var name, version string
	for next := major + 1; next < major+10; next++ {
		candidate := fmt.Sprintf("%s/v%d", prefix, next)
		versions, err := proxy.Versions(ctx, candidate)
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		if err != nil {
			// A path that a proxy refuses is no new major it has (some answer 403, not 404, for a
			// module they do not know): the probe ends there, and the version in use stays checked.
			return name, version, nil
		}
		v := newestWhere(versions, func(v string) bool { return semver.Prerelease(v) == "" })
		if v == "" {
			break
		}
		name, version = candidate, v
	}
	return name, version, nil
}

// updateType is the kind of move from one version to another.
func updateType(from, to string) UpdateKind {
	switch {
	case to == "" || semver.Compare(to, from) <= 0:
		return UpdateNone
	case semver.Major(to) != semver.Major(from):
		return UpdateMajor
	case semver.MajorMinor(to) != semver.MajorMinor(from):
		return UpdateMinor
	}
	return UpdatePatch
}
