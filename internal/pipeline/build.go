package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/cache"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipyardci/shipyard/build"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/gitx"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/semver"
)

// BuildInput is a build: shipyard.yaml's build section with what the command line or the pipeline says
// on top of it.
type BuildInput struct {
	Dir string
	// Build is the build section, with the command line's settings (main, base, dest, cgo) applied.
	Build     config.Build
	Platforms []build.Platform
	// Version is injected and tagged ("": shipyard version describe, with TagPrefix).
	Version, TagPrefix string
	Getenv             func(string) string
	Environ            []string
	ToolVersion        string
	// Client opens the registry client that pulls a base given by reference.
	Client func() (*registry.Client, func(), error)
}

// BuildSpec is the spec of the build in: the commit, its time (SOURCE_DATE_EPOCH first), the source
// URL, the version, the base and the layers. Call done once the build no longer pulls its base.
func BuildSpec(ctx context.Context, in BuildInput) (spec build.Spec, done func(), err error) {
	g := readGitFacts(ctx, in.Dir)
	epoch, ok, err := Epoch(in.Getenv)
	if err != nil {
		return spec, nil, err
	}
	if !ok {
		epoch = time.Unix(g.commitTime, 0).UTC()
	}
	version := in.Version
	if version == "" {
		version = "0.0.0-dev"
		if r, err := semver.Describe(ctx, semver.WithDir(in.Dir), semver.WithTagPrefix(in.TagPrefix)); err == nil {
			version = r.Version.String()
		}
	}
	cfg := in.Build
	source := cfg.Source
	if source == "" {
		source = sourceURL(in.Getenv, g.origin)
	}
	var layers []build.LayerSpec
	for _, l := range cfg.Layers {
		layers = append(layers, build.LayerSpec{Name: l.Name, Run: l.Run, From: l.From, To: l.To, Exclude: l.Exclude})
	}
	base, done, err := Base(ctx, in.Dir, cfg.Base, in.Getenv, in.Client)
	if err != nil {
		return spec, nil, err
	}
	dest := cfg.Dest
	if dest == "" {
		dest = DefaultDest
	}
	var tool *build.Tool
	if cfg.Migrations != "" {
		tool = &build.Tool{Migrations: cfg.Migrations}
		if cfg.Shipyard != "" {
			tool.Binary = resolve(in.Dir, cfg.Shipyard)
		}
	}
	return build.Spec{Dir: in.Dir, Main: cfg.Main, Platforms: in.Platforms, CGO: cfg.CGO, Env: in.Environ, Layers: layers, Dest: dest, Tool: tool,
		ToolVersion: in.ToolVersion, Image: build.ImageOptions{Base: base, CACerts: cfg.CACerts, Entrypoint: cfg.Entrypoint,
			Cmd: cfg.Cmd, Env: cfg.Env, WorkDir: cfg.WorkDir, User: cfg.User, Ports: cfg.Ports, Labels: cfg.Labels, Epoch: epoch,
			Source: source, Revision: g.commit, Version: version, CacheDir: CacheDir(in.Getenv, "layers")}}, done, nil
}

// DefaultDest is where a build's image goes unless told otherwise.
const DefaultDest = "oci:.shipyard/image"

// Platforms reads os/arch[/variant] pairs (linux/amd64 when there are none).
func Platforms(raw []string) ([]build.Platform, error) {
	if len(raw) == 0 {
		raw = []string{"linux/amd64"}
	}
	var out []build.Platform
	for _, s := range raw {
		p, err := build.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Base is the base image of each platform for base: nil for the generated base (""), scratch, an OCI
// layout (oci:DIR, relative to dir) or an image reference, pulled through client and cached by digest.
// Call done once the build no longer pulls.
func Base(ctx context.Context, dir, base string, getenv func(string) string, client func() (*registry.Client, func(), error)) (func(build.Platform) (v1.Image, error), func(), error) {
	none := func() {}
	switch {
	case base == "":
		return nil, none, nil
	case base == "scratch":
		return func(build.Platform) (v1.Image, error) { return build.Scratch(), nil }, none, nil
	case strings.HasPrefix(base, "oci:"):
		path := resolve(dir, strings.TrimPrefix(base, "oci:"))
		idx, err := layout.ImageIndexFromPath(path)
		if err != nil {
			return nil, nil, &InputError{Option: "build.Base", Err: fmt.Errorf("%s is not an OCI layout: %v", path, err)}
		}
		return func(p build.Platform) (v1.Image, error) { return build.PlatformImage(idx, p) }, none, nil
	}
	ref, err := name.ParseReference(base)
	if err != nil {
		return nil, nil, &InputError{Option: "build.Base", Err: fmt.Errorf("%q is not scratch, oci:DIR or an image reference: %v", base, err)}
	}
	c, done, err := client()
	if err != nil {
		return nil, nil, err
	}
	return func(p build.Platform) (v1.Image, error) {
		img, err := remote.Image(ref, append(c.RemoteOptions(ctx), remote.WithPlatform(v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}))...)
		if err != nil {
			return nil, fmt.Errorf("pulling the base %s for %s: %w", ref, p, err)
		}
		if dir := CacheDir(getenv, "base"); dir != "" {
			img = cache.Image(img, cache.NewFilesystemCache(dir)) // the base's layers, kept on disk by digest
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		if cf.OS != p.OS || cf.Architecture != p.Arch {
			return nil, fmt.Errorf("the base %s has no %s image (it is %s/%s): give a multi-platform base, or build for %s/%s only", ref, p, cf.OS, cf.Architecture, cf.OS, cf.Architecture)
		}
		return img, nil
	}, done, nil
}

// Push pushes the built index to ref, with the options' tags, and its referrers (the SBOMs) beside it;
// with signing, it signs the index and each platform's image and attests their provenance and SBOMs.
func Push(ctx context.Context, c *registry.Client, res *build.Result, ref name.Reference, opts registry.PushOptions, signing *Signing) (*build.Pushed, error) {
	pushed, err := c.Push(ctx, res.Index, ref, opts)
	if err != nil {
		return nil, err
	}
	for _, art := range res.Referrers {
		if _, err := c.PushReferrer(ctx, ref.Context(), art); err != nil {
			return nil, err
		}
	}
	out := &build.Pushed{Reference: pushed.Reference, Digest: pushed.Digest, Tags: pushed.Tags}
	if signing != nil && signing.Key != nil {
		signed, err := signPushed(ctx, c, signing, res, pushed.Reference)
		if err != nil {
			return nil, err
		}
		for _, s := range signed {
			for _, r := range s.Referrers {
				out.Signatures = append(out.Signatures, build.Signature{Subject: s.Digest, Digest: r.Digest, PredicateType: r.PredicateType})
			}
		}
	}
	return out, nil
}

// BuildResult is the build stage's outcome: the record of the build, pushed.
type BuildResult struct {
	Record *build.Record `json:"record"`
	// Ref is where it was pushed, REGISTRY/NAME:VERSION.
	Ref string `json:"ref"`
}

// Detail implements Result.
func (r *BuildResult) Detail() string { return r.Ref }

// buildStage builds the project as build: in shipyard.yaml says and pushes it to the run's registry: as
// NAME:VERSION, with the run's version, when the run releases that version; otherwise as NAME:sha-COMMIT,
// with the version git describe gives, so that a released version's tag never names a later commit.
func buildStage(ctx context.Context, s *State) (Result, error) {
	platforms, err := Platforms(s.Config.Build.Platforms)
	if err != nil {
		return nil, err
	}
	version := ""
	if s.Next != nil && s.Next.Changed {
		version = s.Version
	}
	spec, done, err := BuildSpec(ctx, BuildInput{Dir: s.Dir, Build: s.Config.Build, Platforms: platforms, Version: version,
		Getenv: s.Getenv, Environ: s.Environ, ToolVersion: s.ToolVersion, Client: s.Client})
	if err != nil {
		return nil, err
	}
	defer done()
	key, err := SigningKey(s.Config.Build.SignKey, s.Dir, s.Getenv)
	if err != nil {
		return nil, err
	}
	started := time.Now().UTC()
	res, err := build.Run(ctx, spec)
	if err != nil {
		return nil, err
	}
	c, cdone, err := s.Client()
	if err != nil {
		return nil, err
	}
	defer cdone()
	tag := version
	if tag == "" {
		tag = "sha-" + shortCommit(res.Record.Commit)
	}
	ref, err := c.ParseReference(s.Registry + "/" + build.ProjectName(s.Dir) + ":" + tag)
	if err != nil {
		return nil, err
	}
	signing := &Signing{Key: key, Spec: spec, Base: s.Config.Build.Base, Getenv: s.Getenv, ToolVersion: s.ToolVersion, Started: started}
	if res.Record.Pushed, err = Push(ctx, c, res, ref, registry.PushOptions{}, signing); err != nil {
		return nil, err
	}
	if err := build.WriteRecord(s.Dir, &res.Record); err != nil {
		return nil, err
	}
	s.Build = &BuildResult{Record: &res.Record, Ref: ref.String()}
	return s.Build, nil
}

// sourceURL is the repository's public URL: the GitHub repository of the run under GitHub Actions, else
// the origin remote without its credentials, in https form.
func sourceURL(getenv func(string) string, origin string) string {
	if server, repo := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"); server != "" && repo != "" {
		return build.SourceURL(strings.TrimSuffix(server, "/") + "/" + repo)
	}
	return build.SourceURL(origin)
}

// shortCommit is the commit as docker/metadata-action's sha tags abbreviate it: seven characters.
func shortCommit(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}

// gitFacts are what a build reads from the repository, in one git process each: the last commit and its
// time, and the origin remote. All empty outside a repository.
type gitFacts struct {
	commit     string
	commitTime int64 // Unix seconds, 0 when unknown
	origin     string
}

func readGitFacts(ctx context.Context, dir string) gitFacts {
	var g gitFacts
	repo, err := gitx.Open(ctx, dir)
	if err != nil {
		return g
	}
	if out, err := repo.Output(ctx, "log", "-1", "--format=%H %ct"); err == nil {
		if hash, secs, ok := strings.Cut(strings.TrimSpace(out), " "); ok {
			g.commit = hash
			g.commitTime, _ = strconv.ParseInt(secs, 10, 64)
		}
	}
	if out, err := repo.Output(ctx, "remote", "get-url", "origin"); err == nil {
		g.origin = strings.TrimSpace(out)
	}
	return g
}

// Epoch reads SOURCE_DATE_EPOCH: ok says it is set, err that it is not a number of seconds.
func Epoch(getenv func(string) string) (t time.Time, ok bool, err error) {
	s := getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, false, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, true, &InputError{Err: fmt.Errorf("SOURCE_DATE_EPOCH: %q is not a number of seconds", s)}
	}
	return time.Unix(sec, 0).UTC(), true, nil
}

// CacheDir is shipyard's cache directory for kind: $XDG_CACHE_HOME/shipyard/KIND, else
// ~/.cache/shipyard/KIND; "" when neither is known.
func CacheDir(getenv func(string) string, kind string) string {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "shipyard", kind)
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "shipyard", kind)
	}
	return ""
}
