package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/shipyardci/shipyard/publish"
	"github.com/shipyardci/shipyard/semver"
)

// PublishInput is shipyard publish: the npm package in Dir (the repository's root), or each workspace
// of it.
type PublishInput struct {
	Dir string
	// TagPrefix is the version tags' prefix of a single package (version.tag_prefix); a workspace's tags
	// are NAME@VERSION, as lerna and changesets write them.
	TagPrefix string
	// Bump refines the computed increment (--bump, --pre, --build).
	Bump    []semver.Option
	DistTag string
	DryRun  bool
	// Remote, when set, is where the version tags are pushed.
	Remote string
	Getenv func(string) string
}

// PublishedPackage is one package's outcome: the version computed from its commits, the tag, and what
// the registry got.
type PublishedPackage struct {
	publish.Result
	Dir    string `json:"dir"`
	GitTag string `json:"git_tag"`
	Tagged bool   `json:"tagged"`
	// Reason says why there was nothing new to release (the current version was published, or found).
	Reason string `json:"reason,omitempty"`
}

// Publish versions each package from the Conventional Commits that touched it (as version next does),
// tags the release with its changelog (as version tag), publishes it through the registry API, and
// then writes the versions to the package.json and package-lock.json files (as npm version
// --no-git-tag-version; after the tags, which need a clean tree). A package with nothing to release is
// published at its current version when the registry lacks it (a run whose publish failed after it
// tagged is finished by running again), and left alone when the registry has it: publishing the same
// commit again does nothing.
func Publish(ctx context.Context, in PublishInput) ([]PublishedPackage, error) {
	dirs, err := packages(in.Dir)
	if err != nil {
		return nil, err
	}
	var out []PublishedPackage
	for _, dir := range dirs {
		p, err := publishOne(ctx, in, dir, len(dirs) > 1 || dir != in.Dir)
		if p != nil {
			out = append(out, *p)
		}
		if err != nil {
			return out, err
		}
	}
	if in.DryRun {
		return out, nil
	}
	for _, p := range out {
		if err := publish.WriteVersion(p.Dir, p.Version); err != nil {
			return out, err
		}
	}
	return out, nil
}

// packages are the directories to publish: each workspace that is not private, else dir itself.
func packages(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("publishing %s: %w", dir, err)}
	}
	var root struct {
		Workspaces json.RawMessage `json:"workspaces"`
	}
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s: %v", filepath.Join(dir, "package.json"), err)}
	}
	var globs []string
	if json.Unmarshal(root.Workspaces, &globs) != nil {
		var obj struct{ Packages []string }
		_ = json.Unmarshal(root.Workspaces, &obj)
		globs = obj.Packages
	}
	if len(globs) == 0 {
		return []string{dir}, nil
	}
	var out []string
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("%s: workspace %q: %v", filepath.Join(dir, "package.json"), g, err)}
		}
		for _, m := range matches {
			data, err := os.ReadFile(filepath.Join(m, "package.json"))
			if err != nil {
				continue
			}
			var pkg struct{ Private bool }
			if json.Unmarshal(data, &pkg) == nil && !pkg.Private && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func publishOne(ctx context.Context, in PublishInput, dir string, workspace bool) (*PublishedPackage, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var pkg struct{ Name string }
	if err := json.Unmarshal(data, &pkg); err != nil || pkg.Name == "" {
		return nil, &InputError{Err: fmt.Errorf("%s has no name", filepath.Join(dir, "package.json"))}
	}
	opts := append([]semver.Option{semver.WithDir(in.Dir), semver.WithTagPrefix(in.TagPrefix)}, in.Bump...)
	if workspace {
		rel, err := filepath.Rel(in.Dir, dir)
		if err != nil {
			return nil, err
		}
		opts = append(opts, semver.WithTagPrefix(pkg.Name+"@"), semver.WithPaths(filepath.ToSlash(rel)))
	}
	next, err := semver.Next(ctx, opts...)
	if err != nil {
		return nil, err
	}
	out := &PublishedPackage{Dir: dir, GitTag: next.Tag}
	if !next.Changed {
		out.Reason = next.Reason
	}
	if !in.DryRun {
		if out.Tagged, err = semver.TagRelease(ctx, in.Dir, next, semver.TagOptions{Remote: in.Remote}); err != nil {
			return nil, err
		}
	}
	res, err := publish.Publish(ctx, publish.Request{Dir: dir, Version: next.Version.String(), Tag: in.DistTag, DryRun: in.DryRun, Getenv: in.Getenv})
	if res != nil {
		out.Result = *res
	}
	return out, err
}
