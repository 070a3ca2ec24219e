package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Options configures a Client. The zero value is a usable default: Docker's credentials, the system's
// CA certificates, 4 parallel uploads.
type Options struct {
	// Keychain finds credentials; default: Credentials, then Docker's config (DockerConfig).
	Keychain authn.Keychain
	// Credentials given on the command line or in the environment, for every registry.
	Username, Password string
	// DockerConfig is the directory of Docker's config.json (default $DOCKER_CONFIG, then ~/.docker).
	DockerConfig string
	// CACerts are PEM files of extra certificate authorities to trust.
	CACerts []string
	// ClientCert and ClientKey are a PEM certificate and key for registries that ask for one.
	ClientCert, ClientKey string
	// Insecure allows plain HTTP and unverified TLS to any registry; loopback registries get HTTP anyway.
	Insecure bool
	// Jobs is how many blobs move at a time (default 4).
	Jobs int
	// Timeout bounds connecting and waiting for each response's headers (default 60s); a blob upload
	// itself may take longer.
	Timeout time.Duration
	// Retries is how many times a request is tried again on 408, 429, 5xx or a reset connection
	// (default 6, from 100ms doubling).
	Retries int
	// UserAgent names the client (default "shipyard").
	UserAgent string
	Logger    *slog.Logger
	// BlobCache is the file of the blob-location cache ($XDG_CACHE_HOME/shipyard/blob-locations.json in
	// the CLI); none: no cache.
	BlobCache string
	// Progress, when set, receives the bytes moved so far; it must be buffered.
	Progress chan<- Progress
}

// Progress is how far a push or copy is.
type Progress struct {
	Total, Complete int64
}

// Client talks to OCI registries.
type Client struct {
	opts      Options
	transport *counter
	keychain  authn.Keychain
}

// New makes a Client.
func New(opts Options) (*Client, error) {
	if opts.Jobs <= 0 {
		opts.Jobs = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Retries <= 0 {
		opts.Retries = 6
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "shipyard"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	tr, err := newTransport(opts)
	if err != nil {
		return nil, err
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain(staticKeychain{opts.Username, opts.Password}, dockerKeychain{dir: opts.DockerConfig})
	}
	tr = &retrier{next: plainHTTPGuard{next: tr, insecure: opts.Insecure}, tries: opts.Retries, backoff: 50 * time.Millisecond}
	return &Client{opts: opts, transport: &counter{next: tr}, keychain: kc}, nil
}

func newTransport(opts Options) (http.RoundTripper, error) {
	var pool *x509.CertPool // nil: the system's roots, loaded only when a TLS connection needs them
	if len(opts.CACerts) > 0 {
		var err error
		if pool, err = x509.SystemCertPool(); err != nil {
			pool = x509.NewCertPool()
		}
	}
	for _, file := range opts.CACerts {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, &InputError{Option: "registry.CACerts", Err: fmt.Errorf("reading %s: %w", file, err)}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &InputError{Option: "registry.CACerts", Err: fmt.Errorf("%s holds no PEM certificate", file)}
		}
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, InsecureSkipVerify: opts.Insecure} //nolint:gosec // only with --insecure
	if opts.ClientCert != "" || opts.ClientKey != "" {
		cert, err := tls.LoadX509KeyPair(opts.ClientCert, opts.ClientKey)
		if err != nil {
			return nil, &InputError{Option: "registry.ClientCert", Err: fmt.Errorf("loading %s and %s: %w", opts.ClientCert, opts.ClientKey, err)}
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   opts.Jobs * 2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}, nil
}

// InputError is input the user has to fix: an option (Option names it, "registry.CACerts") or a value
// of a kind (Subject, "reference"), and why.
type InputError struct {
	Option  string
	Subject string
	Err     error
}

func (e *InputError) Error() string {
	if e.Subject != "" {
		return e.Subject + ": " + e.Err.Error()
	}
	return e.Err.Error()
}
func (e *InputError) Unwrap() error { return e.Err }

// InputError says that the user's input is wrong: the command exits 2.
func (e *InputError) InputError() bool { return true }

// InputOption is the option that is wrong.
func (e *InputError) InputOption() string { return e.Option }

// ParseReference reads an image reference (registry/repo:tag or @sha256:…); with Insecure, plain HTTP is
// allowed to any registry.
func (c *Client) ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, c.nameOptions()...)
	if err == nil {
		err = checkRepository(ref.Context())
	}
	if err != nil {
		return nil, &InputError{Subject: "reference", Err: fmt.Errorf("%q is not an image reference (want host[:port]/repo[:tag|@sha256:…]): %w", s, err)}
	}
	return ref, nil
}

// ParseRepository reads a repository (registry/repo).
func (c *Client) ParseRepository(s string) (name.Repository, error) {
	repo, err := name.NewRepository(s, c.nameOptions()...)
	if err == nil {
		err = checkRepository(repo)
	}
	if err != nil {
		return name.Repository{}, &InputError{Subject: "repository", Err: fmt.Errorf("%q is not a repository (want host[:port]/repo): %w", s, err)}
	}
	return repo, nil
}

// repositoryName is the OCI distribution spec's <name>: path components of lowercase letters and digits,
// separated by '.', '_', '__' or dashes, between slashes. go-containerregistry lets "..", empty components
// and leading separators through, which would send requests outside /v2/.
var repositoryName = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

func checkRepository(repo name.Repository) error {
	if path := repo.RepositoryStr(); !repositoryName.MatchString(path) {
		return fmt.Errorf("the repository %q is not a name a registry takes: its components are lowercase letters and digits, separated by '.', '_', '__' or dashes", path)
	}
	return nil
}

func (c *Client) nameOptions() []name.Option {
	var opts []name.Option
	if c.opts.Insecure {
		opts = append(opts, name.Insecure)
	}
	return opts
}

// RemoteOptions are the go-containerregistry options of the client (auth, TLS, retries), for reading
// images with the remote package directly, as a build reads its base.
func (c *Client) RemoteOptions(ctx context.Context) []remote.Option { return c.remote(ctx, nil) }

// remote is the go-containerregistry options of one operation.
func (c *Client) remote(ctx context.Context, progress chan<- Progress) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.transport),
		remote.WithAuthFromKeychain(c.keychain),
		remote.WithJobs(c.opts.Jobs),
		remote.WithUserAgent(c.opts.UserAgent),
		remote.WithRetryBackoff(remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: c.opts.Retries}),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
	}
	if progress != nil {
		opts = append(opts, remote.WithProgress(relay(progress)))
	}
	return opts
}

// explain turns the errors of registries into what to do about them, naming the registry.
func explain(what string, err error) error {
	if err == nil {
		return nil
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &certErr) && errors.As(certErr.Err, &unknownCA):
		return fmt.Errorf("%s: TLS: %w: %w", what, ErrUnknownAuthority, err)
	case errors.As(err, &hostErr):
		return fmt.Errorf("%s: TLS: the registry's certificate is not for this host: %w", what, err)
	case isAuthError(err):
		return fmt.Errorf("%s: %w: %w", what, ErrUnauthorized, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ErrUnknownAuthority is a registry whose TLS certificate is signed by an authority the client does not
// trust (Options.CACerts adds one).
var ErrUnknownAuthority = errors.New("the registry's certificate is signed by an unknown authority")

// ErrUnauthorized is a registry that refused the credentials, or asked for some and was given none.
var ErrUnauthorized = errors.New("authentication failed")
