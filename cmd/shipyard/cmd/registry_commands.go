package cmd

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/registry"
)

func newRegistryCmd(f *Factory) *cobra.Command {
	var o registryOptions
	c := &cobra.Command{
		Use:   "registry",
		Short: "Log in to registries, list tags, copy, prune and delete images, serve a registry",
		Long: `Work with OCI registries (CNCF distribution, Harbor, GHCR, ECR, …) and run one.

The client flags and credentials are those of ` + "`shipyard push`" + `. ` + "`registry serve`" + ` runs an embedded
registry, the CNCF distribution registry's own engine, for laptops and tests.`,
	}
	addRegistryFlags(c.PersistentFlags(), &o)
	c.AddCommand(newRegistryLoginCmd(f, &o), newRegistryLogoutCmd(f), newRegistryTagsCmd(f, &o),
		newRegistryCopyCmd(f, &o), newRegistryPruneCmd(f, &o), newRegistryDeleteCmd(f, &o), newRegistryServeCmd(f))
	return c
}

func newRegistryLoginCmd(f *Factory, o *registryOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "login REGISTRY",
		Short: "Store credentials for a registry the way docker login does",
		Long: `Store a user name and password (or token) for a registry in Docker's config.json ($DOCKER_CONFIG or
~/.docker), or in the credential helper it names, where docker, crane, skopeo and shipyard read them.
The password comes from --password-stdin or SHIPYARD_REGISTRY_PASSWORD, never from a flag.`,
		Example: `  echo "$GITHUB_TOKEN" | shipyard registry login ghcr.io -u "$GITHUB_ACTOR" --password-stdin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := f.password(o)
			if err != nil {
				return err
			}
			if o.Username == "" || pw == "" {
				return exitcode.Input(errors.New("--username and a password (--password-stdin or SHIPYARD_REGISTRY_PASSWORD) are both needed"))
			}
			file, err := registry.Login(registry.DockerConfigDir(f.Getenv), args[0], o.Username, pw)
			if err != nil {
				return err
			}
			f.IO.Infof("logged in to %s as %s (credentials in %s)", args[0], o.Username, file)
			return nil
		},
	}
}

func newRegistryLogoutCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logout REGISTRY",
		Short: "Remove the stored credentials of a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := registry.Logout(registry.DockerConfigDir(f.Getenv), args[0])
			if err != nil {
				return err
			}
			f.IO.Infof("logged out of %s (%s)", args[0], file)
			return nil
		},
	}
}

func newRegistryTagsCmd(f *Factory, o *registryOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "tags REPO",
		Short: "List the tags of a repository, highest version first",
		Args:  cobra.ExactArgs(1),
		RunE: f.withRegistry(o, func(cmd *cobra.Command, args []string, c *registry.Client) error {
			repo, err := c.ParseRepository(args[0])
			if err != nil {
				return err
			}
			tags, err := c.Tags(cmd.Context(), repo)
			if err != nil {
				return err
			}
			return f.RenderLines(map[string][]string{"tags": tags}, tags...)
		}),
	}
}

func newRegistryCopyCmd(f *Factory, o *registryOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy an image by digest, across repositories or registries (promotion without a rebuild)",
		Long: `Copy an image or index, by digest, from SRC to DST: within one registry the blobs are mounted, across
registries they stream from one to the other, never through the disk. DST without a tag takes SRC's.`,
		Example: `  shipyard registry copy registry.example.com/api:1.4.2 registry.example.com/api:prod
  shipyard registry copy staging.example.com/api@sha256:… prod.example.com/api:1.4.2`,
		Args: cobra.ExactArgs(2),
		RunE: f.withRegistry(o, func(cmd *cobra.Command, args []string, c *registry.Client) error {
			src, err := c.ParseReference(args[0])
			if err != nil {
				return err
			}
			dst, err := c.ParseReference(args[1])
			if err != nil {
				return err
			}
			res, err := c.Copy(cmd.Context(), src, dst)
			if err != nil {
				return err
			}
			f.IO.Infof("copied %s (%s uploaded, %d blobs mounted, %d already there)", res.Digest, textreport.Bytes(float64(res.BytesUploaded)), res.BlobsMounted, res.BlobsSkipped)
			if err := f.SetOutputs("digest", res.Digest, "image", res.Destination.String()); err != nil {
				return err
			}
			return f.RenderLines(res, res.Destination.String())
		}),
	}
}

func newRegistryPruneCmd(f *Factory, o *registryOptions) *cobra.Command {
	var po registry.PruneOptions
	var store string
	c := &cobra.Command{
		Use:   "prune REPO --keep N",
		Short: "Delete the images of a repository beyond the newest N",
		Long: `Delete the images of a repository but the newest --keep, by the time they were built; with
--keep-semver every image with a version tag is kept too. An image goes with all its tags and with what
refers to it (SBOMs, signatures); an image that a release record of --store names is never deleted.
--dry-run lists exactly what would go.`,
		Example: `  shipyard registry prune registry.example.com/api --keep 20 --keep-semver --dry-run`,
		Args:    cobra.ExactArgs(1),
		RunE: f.withRegistry(o, func(cmd *cobra.Command, args []string, c *registry.Client) error {
			if !cmd.Flags().Changed("keep") {
				return exitcode.Input(errors.New("--keep: say how many images to keep"))
			}
			repo, err := c.ParseRepository(args[0])
			if err != nil {
				return err
			}
			gone, err := pipeline.Prune(cmd.Context(), c, repo, po, f.Dir, store)
			if err != nil {
				return err
			}
			return f.Render(map[string]any{"deleted": gone, "dry_run": po.DryRun}, func(w io.Writer) error { return textreport.Deleted(w, gone, po.DryRun) })
		}),
	}
	c.Flags().IntVar(&po.Keep, "keep", 0, "how many of the newest images to keep")
	c.Flags().BoolVar(&po.KeepSemver, "keep-semver", false, "keep every image with a semantic-version tag too")
	c.Flags().BoolVar(&po.DryRun, "dry-run", false, "list what would be deleted, delete nothing")
	c.Flags().StringVar(&store, "store", pipeline.DefaultStore, "the release records whose images stay: a `DIR`, or registry://HOST/REPO (registry:// for REPO)")
	config.Bind(c.Flags(), "store", "release.store")
	return c
}

func newRegistryDeleteCmd(f *Factory, o *registryOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete REF",
		Short: "Delete an image by tag or digest, with every tag on it",
		Args:  cobra.ExactArgs(1),
		RunE: f.withRegistry(o, func(cmd *cobra.Command, args []string, c *registry.Client) error {
			ref, err := c.ParseReference(args[0])
			if err != nil {
				return err
			}
			d, err := c.Delete(cmd.Context(), ref)
			if err != nil {
				return err
			}
			return f.RenderLines(d, textreport.DeletedLine("deleted", *d))
		}),
	}
}

func newRegistryServeCmd(f *Factory) *cobra.Command {
	var so registry.ServeOptions
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run a private registry on a directory (the CNCF distribution engine)",
		Long: `Run a private OCI registry: the CNCF distribution registry's own engine with its filesystem storage,
so the data in --root survives a restart, and docker, skopeo, crane and shipyard can all use it.
--htpasswd (bcrypt entries, as ` + "`htpasswd -B`" + ` writes) asks for credentials, over plain HTTP only on a loopback
address or with --insecure; --tls-cert and --tls-key serve HTTPS. Failed logins are slowed down for each
client; uploads left unfinished are purged after --upload-age. SIGINT or SIGTERM stops it gracefully.
A web UI at /ui/ shows the repositories, tags, images, referrers and releases, read-only unless
--ui-delete lets the --htpasswd users delete tags and manifests (--no-ui: no UI).`,
		Example: `  shipyard registry serve --addr 127.0.0.1:5000 --root .shipyard/registry
  shipyard registry serve --addr :5443 --root /var/lib/registry --htpasswd auth/htpasswd --tls-cert tls.crt --tls-key tls.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			so.Root, so.Htpasswd, so.TLSCert, so.TLSKey = f.Path(so.Root), f.Path(so.Htpasswd), f.Path(so.TLSCert), f.Path(so.TLSKey)
			so.Logger = slog.New(f.IO.LogHandler())
			err := registry.Serve(cmd.Context(), so, 10*time.Second, func(s *registry.Server) error {
				f.IO.Infof("serving a registry on %s with its data in %s", s.URL(), so.Root)
				if !so.NoUI {
					f.IO.Infof("its web UI: %s/ui/", s.URL())
				}
				return f.SetOutputs("registry", s.Host())
			})
			if err == nil {
				f.IO.Infof("registry stopped")
			}
			return err
		},
	}
	c.Flags().StringVar(&so.Addr, "addr", "127.0.0.1:5000", "`HOST:PORT` to listen on")
	c.Flags().StringVar(&so.Root, "root", ".shipyard/registry", "`DIR` of the registry's data")
	c.Flags().StringVar(&so.Htpasswd, "htpasswd", "", "htpasswd `FILE` of the users allowed in (bcrypt)")
	c.Flags().StringVar(&so.TLSCert, "tls-cert", "", "PEM certificate `FILE` to serve HTTPS")
	c.Flags().StringVar(&so.TLSKey, "tls-key", "", "PEM key `FILE` of --tls-cert")
	c.Flags().BoolVar(&so.Insecure, "insecure", false, "allow --htpasswd over plain HTTP beyond the loopback interface")
	c.Flags().DurationVar(&so.UploadAge, "upload-age", registry.DefaultUploadAge, "purge the uploads left unfinished for `DURATION`")
	c.Flags().BoolVar(&so.NoUI, "no-ui", false, "serve no web UI at /ui/")
	c.Flags().BoolVar(&so.UIDelete, "ui-delete", false, "let the --htpasswd users delete tags and manifests from the UI")
	return c
}

// withRegistry is a command's RunE that runs fn with the registry client of o, closed after.
func (f *Factory) withRegistry(o *registryOptions, fn func(cmd *cobra.Command, args []string, c *registry.Client) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, done, err := f.registryClient(o)
		if err != nil {
			return err
		}
		defer done()
		return fn(cmd, args, c)
	}
}
