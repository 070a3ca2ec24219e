package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/build"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/registry"
)

type buildOptions struct {
	Main       string
	Platforms  []string
	Base       string
	Dest       string
	Push       string
	Tags       []string
	Force      bool
	CGO        bool
	AppVersion string
	SignKey    string
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
	fl.BoolVar(&o.Force, "force", false, "replace a released version's tag that names another image")
	fl.BoolVar(&o.CGO, "cgo", false, "build with cgo (cross-compiling then needs a C cross-compiler)")
	fl.StringVar(&o.AppVersion, "app-version", "", "the version to inject (default: shipyard version describe)")
	fl.StringVar(&o.SignKey, "sign-key", "", "sign what --push pushes with this key `FILE` (or env://NAME), and attest its provenance and SBOMs")
	addRegistryFlags(fl, &o.reg)
	config.BindUnder(fl, "build", "main", "base", "dest", "cgo", "sign-key")
	return c
}

func (f *Factory) runBuild(ctx context.Context, cmd *cobra.Command, o *buildOptions) error {
	spec, done, err := f.buildSpec(ctx, cmd, o)
	if err != nil {
		return err
	}
	defer done()
	started := time.Now().UTC()
	res, err := build.Run(ctx, spec)
	if err != nil {
		return err
	}
	rec := &res.Record
	if o.Push != "" {
		signing := &pipeline.Signing{Spec: spec, Base: o.Base, Getenv: f.Getenv, ToolVersion: f.ToolVersion, Started: started}
		if rec.Pushed, err = f.pushBuild(ctx, o, res, signing); err != nil {
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
		if err := f.SetOutputs("tags", registry.TaggedReferences(rec.Pushed.Reference.Context(), rec.Pushed.Tags)); err != nil {
			return err
		}
	}
	return f.RenderLines(rec, rec.Digest)
}

// buildSpec is the build the flags and shipyard.yaml describe. Call done once the build no longer
// pulls its base.
func (f *Factory) buildSpec(ctx context.Context, cmd *cobra.Command, o *buildOptions) (spec build.Spec, done func(), err error) {
	platforms, err := f.buildPlatforms(cmd, o)
	if err != nil {
		return spec, nil, err
	}
	cfg := f.Config.Build
	cfg.Main, cfg.Base, cfg.Dest, cfg.CGO = o.Main, o.Base, o.Dest, o.CGO
	return pipeline.BuildSpec(ctx, pipeline.BuildInput{Dir: f.Dir, Build: cfg, Platforms: platforms, Version: o.AppVersion,
		TagPrefix: f.Config.Version.TagPrefix, Getenv: f.Getenv, Environ: f.Environ(), ToolVersion: f.ToolVersion,
		Client: func() (*registry.Client, func(), error) { return f.registryClient(&o.reg) }})
}

// pushBuild pushes the built index and its referrers (the SBOMs) to --push, signed with --sign-key.
func (f *Factory) pushBuild(ctx context.Context, o *buildOptions, res *build.Result, signing *pipeline.Signing) (*build.Pushed, error) {
	client, done, err := f.registryClient(&o.reg)
	if err != nil {
		return nil, err
	}
	defer done()
	ref, err := client.ParseReference(o.Push)
	if err != nil {
		return nil, err
	}
	if signing.Key, err = pipeline.SigningKey(o.SignKey, f.Dir, f.Getenv); err != nil {
		return nil, err
	}
	return pipeline.Push(ctx, client, res, ref, registry.PushOptions{Tags: o.Tags, Force: o.Force}, signing)
}

// buildPlatforms reads --platform, else build.platforms, else linux/amd64.
func (f *Factory) buildPlatforms(cmd *cobra.Command, o *buildOptions) ([]build.Platform, error) {
	raw, key := o.Platforms, "--platform"
	if !cmd.Flags().Changed("platform") && len(f.Config.Build.Platforms) > 0 {
		raw, key = f.Config.Build.Platforms, "build.platforms"
	}
	platforms, err := pipeline.Platforms(raw)
	if err != nil {
		return nil, exitcode.Input(fmt.Errorf("%s: %s", key, err))
	}
	return platforms, nil
}
