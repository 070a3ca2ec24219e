package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestRun serves on a free loopback port, answers a health check, and shuts down cleanly on cancel.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, "sqlite://"+filepath.Join(t.TempDir(), "hello.db")) }()

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %d %s", resp.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunBadDatabaseURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), ln, "redis://localhost"); err == nil {
		t.Fatal("want an error for an unsupported database")
	}
}

func TestGetenv(t *testing.T) {
	t.Setenv("HELLO_TEST_ADDR", ":9999")
	if got := getenv("HELLO_TEST_ADDR", ":8080"); got != ":9999" {
		t.Errorf("getenv = %q", got)
	}
	if got := getenv("HELLO_TEST_UNSET", ":8080"); got != ":8080" {
		t.Errorf("getenv fallback = %q", got)
	}
}
