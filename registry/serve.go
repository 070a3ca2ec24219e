package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"github.com/sirupsen/logrus"

	"github.com/shipyardci/shipyard/registry/ui"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd" // htpasswd auth
)

// catalogMaxEntries is the most repositories one /v2/_catalog answer lists; a client pages on with ?last=.
const catalogMaxEntries = 1000

// ServeOptions configures the embedded registry.
type ServeOptions struct {
	Addr string // host:port to listen on; port 0 picks a free one
	Root string // directory of the data, kept across restarts
	// Htpasswd is an htpasswd file (bcrypt) of the users allowed in; none: no authentication.
	Htpasswd string
	// TLSCert and TLSKey serve HTTPS.
	TLSCert, TLSKey string
	// Insecure allows Htpasswd over plain HTTP on an address beyond the loopback interface.
	Insecure bool
	// UploadAge is how long an upload may stay unfinished before it is purged (0: DefaultUploadAge).
	UploadAge time.Duration
	// NoUI turns off the web UI served at /ui/.
	NoUI bool
	// UIDelete lets the users of Htpasswd delete tags and manifests from the UI (read-only otherwise).
	UIDelete bool
	Logger   *slog.Logger
}

// DefaultUploadAge is how long an abandoned upload stays, by default.
const DefaultUploadAge = 24 * time.Hour

// Server is a running embedded registry: the CNCF distribution registry's own engine, with its
// filesystem storage and htpasswd authentication, in this process.
type Server struct {
	srv       *http.Server
	ln        net.Listener
	tls       bool
	done      chan struct{} // closed when it stopped serving, err says why
	err       error
	storage   storagedriver.StorageDriver
	uploadAge time.Duration
	logger    *slog.Logger
	stopPurge func()
}

// Start starts the registry; it serves until Close or Shutdown.
func Start(ctx context.Context, o ServeOptions) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Root, 0o755); err != nil {
		return nil, &InputError{Option: "registry.Root", Err: fmt.Errorf("creating %s: %w", o.Root, err)}
	}
	if o.UploadAge <= 0 {
		o.UploadAge = DefaultUploadAge
	}
	if err := checkPlainAuth(o); err != nil {
		return nil, err
	}
	if o.UIDelete && (o.NoUI || o.Htpasswd == "") {
		return nil, &InputError{Option: "registry.UIDelete", Err: errors.New("deleting from the UI needs the UI and users to sign in (an htpasswd file)")}
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, &InputError{Option: "registry.TLSCert", Err: errors.New("a TLS certificate needs its key, and a key its certificate")}
	}
	var tlsConfig *tls.Config
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, &InputError{Option: "registry.TLSCert", Err: fmt.Errorf("loading %s and %s: %w", o.TLSCert, o.TLSKey, err)}
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	cfg := &configuration.Configuration{}
	// What distribution's YAML defaults to, and what a configuration built here must say: with none the
	// catalog lists nothing, and refuses any ?n=.
	cfg.Catalog.MaxEntries = catalogMaxEntries
	cfg.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": o.Root},
		"delete":     configuration.Parameters{"enabled": true},
		"cache":      configuration.Parameters{"blobdescriptor": "inmemory"},
		// Abandoned uploads are purged by the server below, from the start and at UploadAge.
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}
	if o.Htpasswd != "" {
		if _, err := os.Stat(o.Htpasswd); err != nil {
			return nil, &InputError{Option: "registry.Htpasswd", Err: fmt.Errorf("reading %s: %w", o.Htpasswd, err)}
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "shipyard", "path": o.Htpasswd}}
	}
	logrus.SetOutput(io.Discard) // distribution logs through logrus; requests are logged below
	app, err := newApp(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, &InputError{Option: "registry.Addr", Err: fmt.Errorf("listening on %s: %w", o.Addr, err)}
	}
	fs, err := filesystem.FromParameters(map[string]any{"rootdirectory": o.Root})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("opening the registry's storage: %w", err)
	}
	s := &Server{ln: ln, tls: tlsConfig != nil, done: make(chan struct{}), storage: fs, uploadAge: o.UploadAge, logger: o.Logger}
	handler, err := withUI(o, app)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.startPurging()
	s.srv = &http.Server{Handler: handler, TLSConfig: tlsConfig, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug)} // TLS handshakes that fail, …
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go func() {
		err := s.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
		close(s.done)
	}()
	return s, nil
}

// withUI is the server's handler: the registry's API, and the UI at /ui/ (which reads the API in
// process), one login throttle in front of both.
func withUI(o ServeOptions, app http.Handler) (http.Handler, error) {
	api := hideStorageErrors(o.Logger, app)
	if o.NoUI {
		return logRequests(o.Logger, newLoginThrottle(api)), nil
	}
	pages, err := ui.New(ui.Options{API: app, Auth: o.Htpasswd != "", Delete: o.UIDelete, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(ui.Prefix, pages)
	mux.Handle("GET /{$}", http.RedirectHandler(ui.Prefix, http.StatusFound))
	mux.Handle("/", api)
	return logRequests(o.Logger, newLoginThrottle(mux)), nil
}

// newApp is distribution's registry application; it panics on a bad configuration, which becomes an error.
func newApp(ctx context.Context, cfg *configuration.Configuration) (app http.Handler, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("starting the registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

// URL is the registry's base URL: http:// or https:// and its address.
func (s *Server) URL() string {
	if s.tls {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Addr is the address the registry listens on (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the registry's host for image references: 127.0.0.1:port for a loopback listener.
func (s *Server) Host() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	if addr.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", addr.Port)
	}
	return addr.String()
}

// Shutdown stops accepting requests and waits for those running to end, up to ctx's deadline.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopPurge()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close() // what did not finish in time is cut, and the registry stops all the same
		<-s.done
		return fmt.Errorf("stopping the registry: %w", err)
	}
	<-s.done
	return s.err
}

// Close stops the registry now.
func (s *Server) Close() error {
	s.stopPurge()
	err := s.srv.Close()
	<-s.done
	return errors.Join(err, s.err)
}

// Done is closed when the registry stopped serving; Err then says why.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is why the registry stopped on its own (nil after Shutdown or Close).
func (s *Server) Err() error {
	<-s.done
	return s.err
}

// logRequests logs each request at debug level: method, path, status, duration.
func logRequests(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		l.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start).Round(time.Millisecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Serve runs the embedded registry until ctx is cancelled, then shuts it down gracefully, giving
// connections up to grace to finish. ready is told where it listens once it does.
func Serve(ctx context.Context, o ServeOptions, grace time.Duration, ready func(*Server) error) error {
	s, err := Start(ctx, o)
	if err != nil {
		return err
	}
	if err := ready(s); err != nil {
		s.Close()
		return err
	}
	select {
	case <-ctx.Done():
	case <-s.Done():
		return fmt.Errorf("the registry stopped: %w", s.Err())
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	return s.Shutdown(sctx)
}
