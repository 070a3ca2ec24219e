package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/registry/storage"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
)

// The embedded registry's guards around distribution's engine: failed logins slowed down for each
// client, storage failures told to clients without the server's paths, and basic auth refused over
// plain HTTP beyond the loopback interface.

const (
	// freeLoginFailures is how many failed logins in a row a client has before the next ones wait.
	freeLoginFailures = 3
	// The wait before each login after those doubles from minLoginDelay up to maxLoginDelay; a
	// success, or loginMemory without a failure, forgets them.
	minLoginDelay = 250 * time.Millisecond
	maxLoginDelay = 8 * time.Second
	loginMemory   = 10 * time.Minute
)

// loginThrottle slows password guessing down: a client (an IP address) whose logins failed
// freeLoginFailures times in a row waits before each next one, twice as long each time.
type loginThrottle struct {
	next  http.Handler
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu       sync.Mutex
	failures map[string]*loginFailures
}

type loginFailures struct {
	count int
	last  time.Time
}

func newLoginThrottle(next http.Handler) *loginThrottle {
	return &loginThrottle{next: next, now: time.Now, sleep: sleepCtx, failures: map[string]*loginFailures{}}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// delay is how long a login of client waits now.
func (l *loginThrottle) delay(client string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for c, f := range l.failures { // forget the clients that stopped failing
		if now.Sub(f.last) > loginMemory {
			delete(l.failures, c)
		}
	}
	f := l.failures[client]
	if f == nil || f.count < freeLoginFailures {
		return 0
	}
	return min(minLoginDelay<<min(f.count-freeLoginFailures, 16), maxLoginDelay)
}

// record notes how a login of client went.
func (l *loginThrottle) record(client string, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !failed {
		delete(l.failures, client)
		return
	}
	f := l.failures[client]
	if f == nil {
		f = &loginFailures{}
		l.failures[client] = f
	}
	f.count++
	f.last = l.now()
}

func (l *loginThrottle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		l.next.ServeHTTP(w, r)
		return
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	if d := l.delay(client); d > 0 {
		if err := l.sleep(r.Context(), d); err != nil {
			return // the client gave up
		}
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	l.next.ServeHTTP(sw, r)
	l.record(client, sw.status == http.StatusUnauthorized)
}

// storageErrorBody is what a client is told when the registry's storage failed.
const storageErrorBody = `{"errors":[{"code":"UNKNOWN","message":"the registry's storage failed; the registry's log says why"}]}` + "\n"

// hideStorageErrors answers a server error (5xx) with a message of its own, and logs distribution's,
// which names the storage's paths and the operating system's error, for the operator.
func hideStorageErrors(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hw := &hidingWriter{ResponseWriter: w}
		next.ServeHTTP(hw, r)
		if hw.status >= 500 {
			l.Error("the registry's storage failed", "method", r.Method, "path", r.URL.Path, "status", hw.status, "error", strings.TrimSpace(hw.body.String()))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Del("Content-Length")
			w.WriteHeader(hw.status)
			_, _ = w.Write([]byte(storageErrorBody))
		}
	})
}

// hidingWriter passes a response through, except a 5xx one, whose body it keeps.
type hidingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *hidingWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if code < 500 {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *hidingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 500 {
		return w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *hidingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.status < 500 {
		f.Flush()
	}
}

func (w *hidingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// checkPlainAuth refuses basic auth over plain HTTP on an address beyond the loopback interface: the
// passwords would cross the network in the clear. insecure allows it.
func checkPlainAuth(o ServeOptions) error {
	if o.Htpasswd == "" || o.TLSCert != "" || o.Insecure || loopbackAddr(o.Addr) {
		return nil
	}
	return &InputError{Option: "registry.Htpasswd", Err: fmt.Errorf(
		"over plain HTTP on %s the passwords would cross the network in the clear: serve HTTPS (a TLS certificate and key), listen on a loopback address, or allow it as insecure", o.Addr)}
}

// loopbackAddr says whether a listen address (host:port) is on the loopback interface only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// startPurging purges the abandoned uploads now and then every quarter of their age (at most hourly),
// until the server stops.
func (s *Server) startPurging() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := min(s.uploadAge/4, time.Hour)
		for {
			if n, err := s.PurgeUploads(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("purging abandoned uploads", "error", err)
			} else if n > 0 {
				s.logger.Info("purged abandoned uploads", "uploads", n, "older than", s.uploadAge)
			}
			if sleepCtx(ctx, every) != nil {
				return
			}
		}
	}()
	var once sync.Once
	s.stopPurge = func() { once.Do(func() { cancel(); <-done }) }
}

// PurgeUploads removes the uploads begun longer than the server's upload age ago and never finished
// (a client that died mid-push leaves one), with distribution's own purge, and says how many.
func (s *Server) PurgeUploads(ctx context.Context) (int, error) {
	var notFound storagedriver.PathNotFoundError
	if _, err := s.storage.Stat(ctx, "/docker/registry/v2/repositories"); errors.As(err, &notFound) {
		return 0, nil // nothing pushed yet
	}
	deleted, errs := storage.PurgeUploads(ctx, s.storage, time.Now().Add(-s.uploadAge), true)
	return len(deleted), errors.Join(errs...)
}
