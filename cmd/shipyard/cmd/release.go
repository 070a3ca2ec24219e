package cmd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/migrate"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
)

type releaseOptions struct {
	Store  string
	Scheme release.Scheme
	Env    string
	NoTag  bool
	// VerifyKey is --verify-key: the key the image must be signed with.
	VerifyKey string
	reg       registryOptions
}

func newReleaseCmd(f *Factory) *cobra.Command {
	var o releaseOptions
	c := &cobra.Command{
		Use:   "release",
		Short: "Named releases of a build and its configuration, per environment: create, promote, roll back",
		Long: `A release is a build (an image by digest) plus its configuration (values, and secrets by reference,
never by value), named per environment by --scheme: counter (v1, v2, …, the default), timestamp,
semver or calver. Records are kept in --store: a directory (.shipyard/releases by default), or
registry://HOST/REPO, the image's repository, where each release is an OCI artifact tagged
release-N-ENV beside the image, so that nothing else has to run (for create, registry:// alone takes
the repository of --image).

Promoting and rolling back create new releases that point at an earlier build and configuration, and
move the environment's tag in the image's repository (REPO:ENV) to that digest, unless --no-tag.`,
	}
	pf := c.PersistentFlags()
	pf.StringVar(&o.Store, "store", pipeline.DefaultStore, "where the release records are: a `DIR`, or registry://HOST/REPO")
	pf.StringVar((*string)(&o.Scheme), "scheme", string(release.Counter), "how releases are named: counter, timestamp, semver or calver")
	pf.BoolVar(&o.NoTag, "no-tag", false, "leave the environment's tag in the registry as it is")
	pf.StringVar(&o.VerifyKey, "verify-key", "", "refuse to create, promote or roll back to an image not signed with this public key `FILE` (or env://NAME)")
	addRegistryFlags(pf, &o.reg)
	config.BindUnder(pf, "release", "store", "scheme", "verify-key")
	c.AddCommand(newReleaseCreateCmd(f, &o), newReleaseListCmd(f, &o), newReleaseShowCmd(f, &o), newReleasePromoteCmd(f, &o), newReleaseRollbackCmd(f, &o), newReleaseManifestsCmd(f, &o))
	return c
}

// withStore is a command's RunE that runs fn with the release store of o, closed after.
func (f *Factory) withStore(o *releaseOptions, fn func(cmd *cobra.Command, args []string, s release.Store) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, done, err := f.releaseStore(o, "")
		if err != nil {
			return err
		}
		defer done()
		return fn(cmd, args, s)
	}
}

// releaseStore opens --store: a directory, or the registry repository of registry://HOST/REPO (for
// create, registry:// alone means the repository of image). Call done when finished with it.
func (f *Factory) releaseStore(o *releaseOptions, image string) (s release.Store, done func(), err error) {
	return pipeline.OpenStore(f.Dir, o.Store, image, func() (*registry.Client, func(), error) { return f.registryClient(&o.reg) })
}

func newReleaseCreateCmd(f *Factory, o *releaseOptions) *cobra.Command {
	var image, configFile, version, commit string
	var migration int64
	c := &cobra.Command{
		Use:   "create --env ENV [--image REF@DIGEST] [--config FILE]",
		Short: "Record a release of an image by digest and its configuration",
		Long: `Record a release: the image by digest (default: what shipyard build last pushed, from
.shipyard/build.json), the configuration file (values, and secrets as references such as
vault:secret/app#key or env:NAME), the version and commit it was built from, and the schema version
it needs (default: the newest migration of migrate.dir).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := pipeline.ReleaseInput{Dir: f.Dir, Env: o.Env, Image: image, Version: version, Commit: commit, ConfigFile: configFile,
				Migrate: f.Config.Migrate, Store: o.Store, Scheme: o.Scheme, By: migrate.DefaultAppliedBy(), Now: f.now(),
				VerifyKey: o.VerifyKey, Getenv: f.Getenv, Client: func() (*registry.Client, func(), error) { return f.registryClient(&o.reg) }}
			if migration >= 0 {
				v := uint64(migration)
				in.Migration = &v
			}
			r, err := pipeline.CreateRelease(cmd.Context(), in)
			if err != nil {
				return err
			}
			return f.renderRelease(r)
		},
	}
	c.Flags().StringVar(&o.Env, "env", "", "the `ENV` the release is for")
	c.Flags().StringVar(&image, "image", "", "the image, `REF@DIGEST`")
	c.Flags().StringVar(&configFile, "config", "", "the release configuration `FILE` (values:, secrets:)")
	c.Flags().StringVar(&version, "version", "", "the version of the build")
	c.Flags().StringVar(&commit, "commit", "", "the commit of the build")
	c.Flags().Int64Var(&migration, "migration-version", -1, "the schema version the release needs (default: the newest migration)")
	return c
}

func newReleaseListCmd(f *Factory, o *releaseOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "list --env ENV",
		Short: "List the releases of an environment, newest first",
		Args:  cobra.NoArgs,
		RunE: f.withStore(o, func(cmd *cobra.Command, args []string, store release.Store) error {
			l, err := store.List(cmd.Context(), o.Env)
			if err != nil {
				return err
			}
			for _, d := range l.Damaged {
				f.IO.Warnf("%s: left out", d)
			}
			all := append([]release.Record{}, l.Records...)
			damaged := append([]*release.DamagedError{}, l.Damaged...)
			return f.Render(map[string]any{"releases": all, "damaged": damaged}, func(w io.Writer) error { return textreport.Releases(w, all) })
		}),
	}
	c.Flags().StringVar(&o.Env, "env", "", "the `ENV`")
	return c
}

func newReleaseShowCmd(f *Factory, o *releaseOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "show NAME --env ENV",
		Short: "Show one release",
		Args:  cobra.ExactArgs(1),
		RunE: f.withStore(o, func(cmd *cobra.Command, args []string, store release.Store) error {
			r, err := release.Get(cmd.Context(), store, o.Env, args[0])
			if err != nil {
				return err
			}
			return f.renderRelease(r)
		}),
	}
	c.Flags().StringVar(&o.Env, "env", "", "the `ENV`")
	return c
}

func newReleasePromoteCmd(f *Factory, o *releaseOptions) *cobra.Command {
	var from, to, which string
	c := &cobra.Command{
		Use:   "promote --from ENV --to ENV [NAME]",
		Short: "Release in one environment the build and configuration of another's current release (or NAME)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return exitcode.Input(errors.New("--from and --to: say which environments"))
			}
			if len(args) == 1 {
				which = args[0]
			}
			return f.redeploy(cmd.Context(), o, pipeline.Redeploy{Promote: &release.PromoteRequest{From: from, To: to, Name: which}})
		},
	}
	c.Flags().StringVar(&from, "from", "", "the `ENV` to promote from")
	c.Flags().StringVar(&to, "to", "", "the `ENV` to promote to")
	return c
}

func newReleaseRollbackCmd(f *Factory, o *releaseOptions) *cobra.Command {
	var to, database string
	c := &cobra.Command{
		Use:   "rollback --env ENV [--to NAME]",
		Short: "Release again the build and configuration of an earlier release (default: the one before)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Env == "" {
				return exitcode.Input(errors.New("--env: say which environment"))
			}
			return f.redeploy(cmd.Context(), o, pipeline.Redeploy{Rollback: &release.RollbackRequest{Env: o.Env, To: to}, Database: database})
		},
	}
	c.Flags().StringVar(&o.Env, "env", "", "the `ENV`")
	c.Flags().StringVar(&to, "to", "", "the release `NAME` to roll back to")
	c.Flags().StringVar(&database, "database", "", "the environment's database `URL`, to check the schema the release needs (default $DATABASE_URL, migrate.database)")
	config.Bind(c.Flags(), "database", "migrate.database")
	return c
}

// redeploy releases again, in d's environment, another release's build and configuration, moves the
// environment's tag unless --no-tag, and warns when a rollback's schema is behind.
func (f *Factory) redeploy(ctx context.Context, o *releaseOptions, d pipeline.Redeploy) error {
	d.Dir, d.Store, d.Scheme, d.By, d.Now, d.NoTag = f.Dir, o.Store, o.Scheme, migrate.DefaultAppliedBy(), f.now(), o.NoTag
	d.VerifyKey, d.Getenv = o.VerifyKey, f.Getenv
	d.Migrations, d.Log, d.Repository = pipeline.MigrationsDir(f.Config.Migrate), slog.New(f.IO.LogHandler()), f.Config.Release.Repository
	d.Client = func() (*registry.Client, func(), error) { return f.registryClient(&o.reg) }
	res, err := d.Release(ctx)
	if res != nil && res.SchemaBehind != "" {
		f.IO.Warnf("%s", res.SchemaBehind)
	}
	if err != nil {
		return err
	}
	if res.Tag != "" {
		f.IO.Infof("%s → %s", res.Tag, textreport.ShortDigest(res.Record.Digest))
	}
	return f.renderRelease(res.Record)
}

func (f *Factory) renderRelease(r *release.Record) error {
	if err := f.SetOutputs("release", r.Name, "digest", r.Digest); err != nil {
		return err
	}
	return f.Render(r, func(w io.Writer) error { return textreport.Release(w, r) })
}

func newReleaseManifestsCmd(f *Factory, o *releaseOptions) *cobra.Command {
	var m pipeline.Manifests
	c := &cobra.Command{
		Use:   "manifests --env ENV -f FILE|DIR [NAME]",
		Short: "Pin Kubernetes YAML to a release: its images by digest, labelled with the release (like ko resolve)",
		Long: `Rewrite every image of the release's repository in Kubernetes YAML (Pods, workloads, Jobs, CronJobs,
Lists; init and ephemeral containers too) to the release's REPO@sha256:…, labelling each object changed,
and its pods, with the release, environment and version; other images and kinds pass through untouched,
comments and key order kept. The release is the environment's current one, or NAME (a rollback's
manifests name the old digests). The result goes to stdout, or to --out DIR under each file's name.`,
		Example: `  shipyard release manifests --env staging -f k8s/ | kubectl apply -f -
  shipyard release manifests --env prod -f k8s/deploy.yaml --out rendered/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m.Dir, m.Store, m.Env, m.Name, m.Stdin = f.Dir, o.Store, o.Env, strings.Join(args, ""), f.IO.In
			m.Client = func() (*registry.Client, func(), error) { return f.registryClient(&o.reg) }
			res, err := m.Pin(cmd.Context())
			if err != nil {
				return err
			}
			f.IO.Infof("%s release %s: %d image references pinned to %s", o.Env, res.Release.Name, len(res.Pinned), res.Release.Image)
			if m.Out != "" || f.Output == outputJSON {
				return f.RenderLines(res, res.Written...)
			}
			_, err = io.WriteString(f.IO.Out, res.YAML)
			return err
		},
	}
	c.Flags().StringVar(&o.Env, "env", "", "the `ENV` whose release pins the manifests")
	c.Flags().StringArrayVarP(&m.Files, "filename", "f", nil, "a YAML `FILE`, a directory of them, or - for stdin (repeatable)")
	c.Flags().StringVar(&m.Out, "out", "", "write the pinned files into `DIR` instead of stdout")
	return c
}
