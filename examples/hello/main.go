// Command hello is the example service that shipyard tests, builds, pushes, migrates and releases: an HTTP
// API with a health check and one table, configured by the environment.
//
//	ADDR          listen address (default :8080)
//	DATABASE_URL  sqlite://PATH (default sqlite://hello.db) or postgres://…
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set by `shipyard build` with -ldflags -X main.version=….
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", getenv("ADDR", ":8080"))
	if err == nil {
		err = run(ctx, ln, getenv("DATABASE_URL", "sqlite://hello.db"))
	}
	if err != nil {
		slog.Error("hello stopped", "err", err)
		os.Exit(1)
	}
}

// run serves on ln until ctx is done, then shuts down gracefully.
func run(ctx context.Context, ln net.Listener, databaseURL string) error {
	db, err := openDB(databaseURL)
	if err != nil {
		ln.Close()
		return err
	}
	defer db.Close()
	srv := &http.Server{Handler: newHandler(db, version), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("hello listening", "addr", ln.Addr().String(), "version", version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func getenv(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
