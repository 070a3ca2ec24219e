package cmd

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/cache"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/build"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/gitx"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/semver"
)

type buildOptions struct {
	Main       string
	Platforms  []string
	Base       string
	Dest       string
	Push       string
	Tags       []string
	CGO        bool
	AppVersion string
	reg        registryOptions
}

func newBuildCmd(f *Factory) *cobra.Command {
	var o buildOptions
	c := &cobra.Command{
		Use:   "build",
		Short: "Build Go binaries and a reproducible OCI image, without a Docker daemon",
		Long: `Build the main package (--main) for each --platform, cross-compiled with -trimpath and cgo off, with
the version, commit and date of ` + "`shipyard version describe`" + ` injected into main.version, main.commit
and main.date when the package declares them. Each binary goes in a layer of its own, /app/NAME, the
entrypoint, on a base: the generated one by default (CA certificates, passwd with the non-root user
65532 it runs as, /tmp), scratch, an OCI layout (oci:DIR) or an image reference.

Builds are reproducible: every timestamp is SOURCE_DATE_EPOCH, by default the last commit's time, so
the same commit gives the same digest. The image goes to --dest (oci:DIR or tar:FILE) and, with
--push REF, to a registry; .shipyard/build.json records what was built.`,
		Example: `  shipyard build --platform linux/amd64,linux/arm64
  shipyard build --dest tar:hello.tar && docker load < hello.tar
  shipyard build --push registry.example.com/team/hello:1.4.2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.runBuild(cmd.Context(), cmd, &o) },
	}
	fl := c.Flags()
	fl.StringVar(&o.Main, "main", ".", "the main `PACKAGE` to build, relative to the module")
	fl.StringSliceVar(&o.Platforms, "platform", nil, "`OS/ARCH[/VARIANT]` to build for, comma-separated (default linux/amd64, or build.platforms)")
	fl.StringVar(&o.Base, "base", "", "base image: scratch, oci:DIR or a reference (default: the generated base)")
	fl.StringVar(&o.Dest, "dest", "oci:.shipyard/image", "where the image goes: oci:DIR or tar:FILE")
	fl.StringVar(&o.Push, "push", "", "also push the image to `REF` (tags as shipyard push)")
	fl.StringArrayVarP(&o.Tags, "tag", "t", nil, "another tag to push (repeatable)")
	fl.BoolVar(&o.CGO, "cgo", false, "build with cgo (cross-compiling then needs a C cross-compiler)")
	fl.StringVar(&o.AppVersion, "app-version", "", "the version to inject (default: shipyard version describe)")
	addRegistryFlags(fl, &o.reg)
	config.Bind(fl, "main", "build.main")
	config.Bind(fl, "base", "build.base")
	config.Bind(fl, "dest", "build.dest")
	config.Bind(fl, "cgo", "build.cgo")
	return c
}

func (f *Factory) runBuild(ctx context.Context, cmd *cobra.Command, o *buildOptions) error {
	spec, done, err := f.buildSpec(ctx, cmd, o)
	if err != nil {
		return err
	}
	defer done()
	res, err := build.Run(ctx, spec)
	if err != nil {
		return err
	}
	rec := &res.Record
	if o.Push != "" {
		if rec.Pushed, err = f.pushBuild(ctx, o, res); err != nil {
			return err
		}
	}
	if err := build.WriteRecord(f.Dir, rec); err != nil {
		return err
	}
	f.IO.Infof("built %s for %s: %s", res.Name, strings.Join(rec.Platforms, ", "), rec.Digest)
	if err := f.SetOutputs("digest", rec.Digest, "version", rec.Version); err != nil {
		return err
	}
	if rec.Pushed != nil {
		if err := f.SetOutputs("tags", pushedTags(rec.Pushed.Reference, rec.Pushed.Tags)); err != nil {
			return err
		}
	}
	return f.Render(rec, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, rec.Digest)
		return err
	})
}

// buildSpec is the build the flags and shipyard.yaml describe. Call done once the build no longer
// pulls its base.
func (f *Factory) buildSpec(ctx context.Context, cmd *cobra.Command, o *buildOptions) (spec build.Spec, done func(), err error) {
	platforms, err := f.buildPlatforms(cmd, o)
	if err != nil {
		return spec, nil, err
	}
	g := f.gitFacts(ctx)
	epoch, err := f.sourceDateEpoch(g)
	if err != nil {
		return spec, nil, err
	}
	cfg := f.Config.Build
	var layers []build.LayerSpec
	for _, l := range cfg.Layers {
		layers = append(layers, build.LayerSpec{Name: l.Name, Run: l.Run, From: l.From, To: l.To, Exclude: l.Exclude})
	}
	base, done, err := f.buildBase(ctx, o)
	if err != nil {
		return spec, nil, err
	}
	return build.Spec{Dir: f.Dir, Main: o.Main, Platforms: platforms, CGO: o.CGO, Env: f.Environ(), Layers: layers, Dest: o.Dest,
		ToolVersion: f.ToolVersion, Image: build.ImageOptions{Base: base, CACerts: cfg.CACerts, Entrypoint: cfg.Entrypoint,
			Cmd: cfg.Cmd, Env: cfg.Env, WorkDir: cfg.WorkDir, User: cfg.User, Ports: cfg.Ports, Labels: cfg.Labels, Epoch: epoch,
			Source: f.buildSource(g), Revision: g.commit, Version: f.buildVersion(ctx, o), CacheDir: f.cacheDir("layers")}}, done, nil
}

// pushBuild pushes the built index and its referrers (the SBOMs) to --push.
func (f *Factory) pushBuild(ctx context.Context, o *buildOptions, res *build.Result) (*build.Pushed, error) {
	client, done, err := f.registryClient(&o.reg)
	if err != nil {
		return nil, err
	}
	defer done()
	pushed, err := client.Push(ctx, res.Index, o.Push, registry.PushOptions{Tags: o.Tags})
	if err != nil {
		return nil, err
	}
	ref, err := client.ParseReference(o.Push)
	if err != nil {
		return nil, err
	}
	for _, art := range res.Referrers {
		if _, err := client.PushReferrer(ctx, ref.Context().String(), art); err != nil {
			return nil, err
		}
	}
	return &build.Pushed{Reference: pushed.Reference, Digest: pushed.Digest, Tags: pushed.Tags}, nil
}

// buildPlatforms reads --platform, else build.platforms, else linux/amd64.
func (f *Factory) buildPlatforms(cmd *cobra.Command, o *buildOptions) ([]build.Platform, error) {
	raw, key := o.Platforms, "--platform"
	if !cmd.Flags().Changed("platform") && len(f.Config.Build.Platforms) > 0 {
		raw, key = f.Config.Build.Platforms, "build.platforms"
	}
	if len(raw) == 0 {
		raw = []string{"linux/amd64"}
	}
	var out []build.Platform
	for _, s := range raw {
		p, err := build.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return nil, exitcode.Input(fmt.Errorf("%s: %s", key, err))
		}
		out = append(out, p)
	}
	return out, nil
}

// buildBase is the --base image for each platform: nil for the generated base. Call done once the
// build no longer pulls.
func (f *Factory) buildBase(ctx context.Context, o *buildOptions) (base func(build.Platform) (v1.Image, error), done func(), err error) {
	switch {
	case o.Base == "":
		return nil, func() {}, nil
	case o.Base == "scratch":
		return func(build.Platform) (v1.Image, error) { return build.Scratch(), nil }, func() {}, nil
	case strings.HasPrefix(o.Base, "oci:"):
		dir := f.Path(strings.TrimPrefix(o.Base, "oci:"))
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			return nil, nil, exitcode.Input(fmt.Errorf("--base: %s is not an OCI layout: %v", dir, err))
		}
		return func(p build.Platform) (v1.Image, error) { return build.PlatformImage(idx, p) }, func() {}, nil
	}
	ref, err := name.ParseReference(o.Base)
	if err != nil {
		return nil, nil, exitcode.Input(fmt.Errorf("--base: %q is not scratch, oci:DIR or an image reference: %v", o.Base, err))
	}
	client, done, err := f.registryClient(&o.reg)
	if err != nil {
		return nil, nil, err
	}
	return func(p build.Platform) (v1.Image, error) {
		img, err := remote.Image(ref, append(client.RemoteOptions(ctx), remote.WithPlatform(v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}))...)
		if err != nil {
			return nil, fmt.Errorf("pulling the base %s for %s: %w", ref, p, err)
		}
		if dir := f.cacheDir("base"); dir != "" {
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

// gitFacts are what a build reads from the repository, in one git process each: the last commit and
// its time, and the origin remote. All empty outside a repository.
type gitFacts struct {
	commit     string
	commitTime int64 // Unix seconds, 0 when unknown
	origin     string
}

func (f *Factory) gitFacts(ctx context.Context) gitFacts {
	var g gitFacts
	repo, err := gitx.Open(ctx, f.Dir)
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

// sourceDateEpoch is SOURCE_DATE_EPOCH, else the last commit's time, else the Unix epoch.
func (f *Factory) sourceDateEpoch(g gitFacts) (time.Time, error) {
	if t, ok, err := f.envEpoch(); ok {
		return t, err
	}
	return time.Unix(g.commitTime, 0).UTC(), nil
}

// buildVersion is --app-version, else shipyard version describe, else 0.0.0-dev.
func (f *Factory) buildVersion(ctx context.Context, o *buildOptions) string {
	if o.AppVersion != "" {
		return o.AppVersion
	}
	if r, err := semver.Describe(ctx, semver.WithDir(f.Dir), semver.WithTagPrefix(f.Config.Version.TagPrefix)); err == nil {
		return r.Version.String()
	}
	return "0.0.0-dev"
}

// buildSource is build.source, else the git remote origin.
func (f *Factory) buildSource(g gitFacts) string {
	if f.Config.Build.Source != "" {
		return f.Config.Build.Source
	}
	return g.origin
}

// cacheDir is shipyard's cache directory for kind: $XDG_CACHE_HOME/shipyard/KIND, else
// ~/.cache/shipyard/KIND; "" when neither is known.
func (f *Factory) cacheDir(kind string) string {
	if d := f.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "shipyard", kind)
	}
	if h := f.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "shipyard", kind)
	}
	return ""
}
