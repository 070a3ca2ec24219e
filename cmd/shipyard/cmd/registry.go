package cmd

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/progress"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/registry"
)

// registryOptions are the client flags of push and every registry subcommand.
type registryOptions struct {
	Username      string
	PasswordStdin bool
	CACerts       []string
	ClientCert    string
	ClientKey     string
	Insecure      bool
	Jobs          int
	Timeout       time.Duration
	Retries       int
}

func addRegistryFlags(fs *pflag.FlagSet, o *registryOptions) {
	fs.StringVarP(&o.Username, "username", "u", "", "user name for the registry (default: Docker's credentials)")
	fs.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from stdin (else $SHIPYARD_REGISTRY_PASSWORD)")
	fs.StringArrayVar(&o.CACerts, "ca-cert", nil, "PEM `FILE` of a certificate authority to trust (repeatable)")
	fs.StringVar(&o.ClientCert, "client-cert", "", "PEM certificate `FILE` for registries that ask for one")
	fs.StringVar(&o.ClientKey, "client-key", "", "PEM key `FILE` of --client-cert")
	fs.BoolVar(&o.Insecure, "insecure", false, "allow plain HTTP and unverified TLS (loopback registries get HTTP anyway)")
	fs.IntVar(&o.Jobs, "jobs", 4, "blobs moved at a time")
	fs.DurationVar(&o.Timeout, "timeout", time.Minute, "how long to wait to connect and for each response")
	fs.IntVar(&o.Retries, "retries", 6, "tries of a request on 408, 429, 5xx or a reset connection")
	config.BindUnder(fs, "registry", "username", "ca-cert", "insecure", "jobs")
}

// password is --password-stdin's or $SHIPYARD_REGISTRY_PASSWORD, masked under GitHub Actions.
func (f *Factory) password(o *registryOptions) (string, error) {
	pw := f.Getenv("SHIPYARD_REGISTRY_PASSWORD")
	if o.PasswordStdin {
		var err error
		if pw, err = f.stdin.Read(f.IO.In); err != nil {
			return "", err
		}
		if pw == "" {
			return "", exitcode.Input(errors.New("--password-stdin: stdin is empty"))
		}
	}
	f.Actions.Mask(pw)
	return pw, nil
}

// registryClient makes the client the flags describe, with a progress bar on a terminal.
func (f *Factory) registryClient(o *registryOptions) (*registry.Client, func(), error) {
	pw, err := f.password(o)
	if err != nil {
		return nil, nil, err
	}
	if pw != "" && o.Username == "" {
		return nil, nil, exitcode.Input(errors.New("--username: a password was given without a user name (--username or SHIPYARD_REGISTRY_USERNAME)"))
	}
	var cas []string
	for _, c := range o.CACerts {
		cas = append(cas, f.Path(c))
	}
	opts := registry.Options{
		Username: o.Username, Password: pw, DockerConfig: registry.DockerConfigDir(f.Getenv), CACerts: cas,
		ClientCert: f.Path(o.ClientCert), ClientKey: f.Path(o.ClientKey), Insecure: o.Insecure,
		Jobs: o.Jobs, Timeout: o.Timeout, Retries: o.Retries, UserAgent: "shipyard/" + f.ToolVersion,
		Logger: slog.New(f.IO.LogHandler()), BlobCache: f.blobCache(),
	}
	var ch chan registry.Progress
	if f.IO.IsStderrTTY() && !f.IO.Quiet {
		ch = make(chan registry.Progress, 1)
		opts.Progress = ch
	}
	c, err := registry.New(opts)
	if err != nil {
		return nil, nil, err
	}
	if ch == nil {
		return c, func() {}, nil
	}
	// The bar starts only once the client exists, so that no error path leaves its goroutine running.
	return c, progress.Bar(f.IO.ErrOut, ch), nil
}

// blobCache is the file of the registry client's blob-location cache, in shipyard's cache directory.
func (f *Factory) blobCache() string {
	if dir := pipeline.CacheDir(f.Getenv, ""); dir != "" {
		return filepath.Join(dir, "blob-locations.json")
	}
	return ""
}

func newPushCmd(f *Factory) *cobra.Command {
	var o registryOptions
	var po registry.PushOptions
	c := &cobra.Command{
		Use:   "push SRC REF",
		Short: "Push an OCI layout or image tarball to a registry, and tag it",
		Long: `Push an image or multi-platform index to any OCI registry: SRC is an OCI layout directory or a
` + "`docker save`" + ` tarball, REF the repository, with a tag or not. Blobs the registry has are skipped, the rest
move in parallel (--jobs), requests are retried with backoff on 429, 5xx and reset connections.

Each stable version tag also moves its minor and major tags, and latest, when it is the highest of
them in the repository: 1.4.2 tags 1.4 and 1 too (--no-expand: only the tags given). After concurrent
pushes they name the highest version pushed: each push reads them back and repairs them. A released
version is immutable: a push to a tag 1.4.2 that names another image fails, unless --force. A REF
without a tag and no --tag is tagged latest. Prints the pushed reference by digest.

Credentials come from Docker's config.json and credential helpers (see ` + "`shipyard registry login`" + `),
or --username with --password-stdin or SHIPYARD_REGISTRY_PASSWORD.`,
		Example: `  shipyard push ./out/oci registry.example.com/team/api:1.4.2
  shipyard push image.tar 127.0.0.1:5000/api --tag "$(shipyard version next)" --tag "sha-$GITHUB_SHA"
  echo "$TOKEN" | shipyard push ./out/oci ghcr.io/acme/api:1.4.2 -u acme --password-stdin`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, done, err := f.registryClient(&o)
			if err != nil {
				return err
			}
			a, err := registry.Load(f.Path(args[0]))
			if err != nil {
				return err
			}
			if c, ok := a.(io.Closer); ok {
				defer c.Close()
			}
			ref, err := client.ParseReference(args[1])
			if err != nil {
				done()
				return err
			}
			res, err := client.Push(cmd.Context(), a, ref, po)
			done()
			if err != nil {
				return err
			}
			f.IO.Infof("pushed %s (%s uploaded, %d blobs uploaded, %d mounted, %d already there), tags: %s", res.Digest,
				textreport.Bytes(float64(res.BytesUploaded)), res.BlobsUploaded, res.BlobsMounted, res.BlobsSkipped, strings.Join(res.Tags, ", "))
			for _, line := range textreport.Superseded(res.Superseded) {
				f.IO.Infof("%s", line)
			}
			if err := f.SetOutputs("digest", res.Digest, "image", res.Reference.String(), "tags", registry.TaggedReferences(res.Reference.Context(), res.Tags)); err != nil {
				return err
			}
			return f.RenderLines(res, res.Reference.String())
		},
	}
	addRegistryFlags(c.Flags(), &o)
	c.Flags().StringArrayVarP(&po.Tags, "tag", "t", nil, "another tag to push (repeatable)")
	c.Flags().BoolVar(&po.NoExpand, "no-expand", false, "push only the tags given, not the moving minor, major and latest tags")
	c.Flags().BoolVar(&po.Force, "force", false, "replace a released version's tag (1.4.2) that names another image")
	return c
}
