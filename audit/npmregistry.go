package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/sync/errgroup"

	"github.com/shipyardci/shipyard/internal/npmrc"
)

// NpmRegistry reads package metadata (packuments) from npm registries, configured like npm (npmrc).
type NpmRegistry struct {
	*npmrc.Config
	client *http.Client
	// Node is the version of the Node.js on PATH, whose engines.node npm checks when it picks a
	// version; nil when there is none.
	Node *semver.Version
}

// nodeOnPath is the version of the node command on PATH, nil when there is none.
func nodeOnPath() *semver.Version {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return nil
	}
	v, err := semver.NewVersion(strings.TrimSpace(string(out)))
	if err != nil {
		return nil
	}
	return v
}

// NewNpmRegistry reads dir/.npmrc, then the user's ~/.npmrc (NPM_CONFIG_USERCONFIG), through getenv.
func NewNpmRegistry(dir string, getenv func(string) string, client *http.Client) (*NpmRegistry, error) {
	c, err := npmrc.Read(dir, getenv)
	if err != nil {
		return nil, err
	}
	return &NpmRegistry{Config: c, client: client, Node: nodeOnPath()}, nil
}

// Packument is a package's registry document: its versions, dist-tags and publish times.
type Packument struct {
	Name     string            `json:"name"`
	DistTags map[string]string `json:"dist-tags"`
	Versions map[string]struct {
		Deprecated json.RawMessage `json:"deprecated"`
		Engines    struct {
			Node string `json:"node"`
		} `json:"engines"`
	} `json:"versions"`
	Time map[string]time.Time `json:"-"`
}

// deprecated is a version's deprecation message ("" when it is not; npm also accepts true).
func (p *Packument) deprecated(version string) string {
	raw := p.Versions[version].Deprecated
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil && b {
		return "deprecated"
	}
	return ""
}

// engineOK says whether the version's engines.node accepts node (nil: nothing to check against).
func (p *Packument) engineOK(version string, node *semver.Version) bool {
	want := strings.TrimSpace(p.Versions[version].Engines.Node)
	if node == nil || want == "" || want == "*" {
		return true
	}
	c, err := semver.NewConstraint(want)
	return err != nil || c.Check(node) // a range npm cannot read does not exclude the version either
}

// sortedVersions lists the valid versions that are not deprecated, lowest first.
func (p *Packument) sortedVersions() []string {
	var vs []*semver.Version
	for raw := range p.Versions {
		if v, err := semver.StrictNewVersion(raw); err == nil && p.deprecated(raw) == "" {
			vs = append(vs, v)
		}
	}
	slices.SortFunc(vs, func(a, b *semver.Version) int { return a.Compare(b) })
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Original()
	}
	return out
}

// Packument fetches the document of a package from its registry.
func (r *NpmRegistry) Packument(ctx context.Context, name string) (*Packument, error) {
	base := r.RegistryFor(name)
	u := base + npmrc.PackagePath(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token := r.Token(req.URL); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %s from %s: %w", name, base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading %s from %s: %s", name, base, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s from %s: %w", name, base, err)
	}
	var p Packument
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("reading %s from %s: %w", name, base, err)
	}
	var times struct {
		Time map[string]json.RawMessage `json:"time"`
	}
	_ = json.Unmarshal(data, &times)
	p.Time = map[string]time.Time{}
	for v, raw := range times.Time {
		var t time.Time
		if json.Unmarshal(raw, &t) == nil {
			p.Time[v] = t
		}
	}
	return &p, nil
}

// OutdatedNpm reads the registry for every dependency of p, concurrently, and computes what
// `npm outdated` shows: Wanted, the version npm install would pick for the range, and Latest, the
// latest dist-tag.
func OutdatedNpm(ctx context.Context, p *NpmProject, reg *NpmRegistry) ([]Dependency, error) {
	deps := make([]Dependency, len(p.Dependencies))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, d := range p.Dependencies {
		g.Go(func() error {
			dep := Dependency{Ecosystem: Npm, Name: d.key, Current: d.Installed, Type: npmType(d.Type), Update: UpdateNone, File: p.File, Line: d.Line}
			doc, err := reg.Packument(gctx, d.Name)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				dep.Error = err.Error()
				deps[i] = dep
				return nil
			}
			dep.Wanted = pickVersion(doc, d.Spec, reg.Node)
			dep.Range, dep.Versions = d.Spec, slices.DeleteFunc(doc.sortedVersions(), func(v string) bool { return !doc.engineOK(v, reg.Node) })
			dep.Latest, dep.LatestTag = pickVersion(doc, "*", reg.Node), doc.DistTags["latest"]
			if d.Installed != "" {
				dep.Deprecated = doc.deprecated(d.Installed)
				dep.Update = npmUpdateType(d.Installed, dep.Latest)
				if t, ok := doc.Time[dep.Latest]; ok && dep.Update != UpdateNone && t.Before(doc.Time[d.Installed]) {
					dep.Backport = true
				}
			}
			deps[i] = dep
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return deps, nil
}

func npmType(section string) DependencyType {
	if section == "devDependencies" {
		return Dev
	}
	return Direct
}

// pickVersion is the version npm would install for spec on node, as npm-pick-manifest chooses: a
// dist-tag's version; else the latest dist-tag when it satisfies the range, is not deprecated and its
// engines.node accepts node; else the satisfying version that is best by, in turn: not deprecated with
// its engines accepting node, its engines accepting node, not deprecated, the highest. npm outdated's
// Latest is this pick for "*". "" when nothing satisfies (or spec is a URL or path).
func pickVersion(doc *Packument, spec string, node *semver.Version) string {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = "*"
	}
	if v, ok := doc.DistTags[spec]; ok {
		return v
	}
	c, err := semver.NewConstraint(spec)
	if err != nil {
		return ""
	}
	if latest, ok := doc.DistTags["latest"]; ok {
		if v, err := semver.StrictNewVersion(latest); err == nil && c.Check(v) && doc.deprecated(latest) == "" && doc.engineOK(latest, node) {
			return latest
		}
	}
	type candidate struct {
		v                    *semver.Version
		fresh, engine, ideal bool
	}
	var best *candidate
	for raw := range doc.Versions {
		v, err := semver.StrictNewVersion(raw)
		if err != nil || !c.Check(v) {
			continue
		}
		cand := &candidate{v: v, fresh: doc.deprecated(raw) == "", engine: doc.engineOK(raw, node)}
		cand.ideal = cand.fresh && cand.engine
		if best == nil || better(cand.ideal, best.ideal, cand.engine, best.engine, cand.fresh, best.fresh, cand.v.GreaterThan(best.v)) {
			best = cand
		}
	}
	if best == nil {
		return ""
	}
	return best.v.Original()
}

// better compares two candidates by npm-pick-manifest's keys, in order: each pair is (a's, b's).
func better(idealA, idealB, engineA, engineB, freshA, freshB, higher bool) bool {
	switch {
	case idealA != idealB:
		return idealA
	case engineA != engineB:
		return engineA
	case freshA != freshB:
		return freshA
	}
	return higher
}

func npmUpdateType(from, to string) UpdateKind {
	f, err1 := semver.StrictNewVersion(from)
	t, err2 := semver.StrictNewVersion(to)
	switch {
	case err1 != nil || err2 != nil || !t.GreaterThan(f):
		return UpdateNone
	case t.Major() != f.Major():
		return UpdateMajor
	case t.Minor() != f.Minor():
		return UpdateMinor
	}
	return UpdatePatch
}
