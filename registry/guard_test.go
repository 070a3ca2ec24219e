package registry

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoginThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var waits []time.Duration
	l := newLoginThrottle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Basic good" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	l.now = func() time.Time { return now }
	l.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	login := func(client, auth string) int {
		r := httptest.NewRequest(http.MethodGet, "/v2/", nil)
		r.RemoteAddr = client + ":40000"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		l.ServeHTTP(w, r)
		return w.Code
	}
	for range 10 {
		assert.Equal(t, http.StatusUnauthorized, login("10.0.0.1", "Basic wrong"))
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second},
		waits, "three free failures, then a wait that doubles, up to 8s")
	waits = nil
	login("10.0.0.2", "Basic wrong")
	login("10.0.0.1", "")
	assert.Empty(t, waits, "another client, and a request without credentials, do not wait")

	assert.Equal(t, http.StatusOK, login("10.0.0.1", "Basic good"))
	assert.Equal(t, []time.Duration{8 * time.Second}, waits, "the right password waits too, once")
	waits = nil
	for range 3 {
		login("10.0.0.1", "Basic wrong")
	}
	assert.Empty(t, waits, "a success forgets the failures")
	login("10.0.0.1", "Basic wrong")
	now = now.Add(loginMemory + time.Second)
	login("10.0.0.1", "Basic wrong")
	assert.Equal(t, []time.Duration{250 * ms}, waits, "and so does a while without failures")
}

func TestPlainAuthBeyondLoopback(t *testing.T) {
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	require.NoError(t, os.WriteFile(htpasswd, []byte("user:$2y$05$abcdefghijklmnopqrstuu5Y6o2M0bH2oTm5n6N5mH3QdYgI7Bq6S\n"), 0o644))
	for _, tc := range []struct {
		addr     string
		tls      bool
		insecure bool
		refused  bool
	}{
		{"127.0.0.1:0", false, false, false},
		{"localhost:0", false, false, false},
		{"[::1]:0", false, false, false},
		{"0.0.0.0:0", false, false, true},
		{":0", false, false, true},
		{"0.0.0.0:0", false, true, false},
		{"0.0.0.0:0", true, false, false},
	} {
		o := ServeOptions{Addr: tc.addr, Htpasswd: htpasswd, Insecure: tc.insecure}
		if tc.tls {
			o.TLSCert, o.TLSKey = "cert.pem", "key.pem"
		}
		err := checkPlainAuth(o)
		if !tc.refused {
			assert.NoError(t, err, "%+v", tc)
			continue
		}
		var input *InputError
		if assert.ErrorAs(t, err, &input, "%+v", tc) {
			assert.Contains(t, err.Error(), "the passwords would cross the network in the clear")
			assert.Contains(t, err.Error(), "allow it as insecure")
		}
	}
	_, err := Start(context.Background(), ServeOptions{Addr: "0.0.0.0:0", Root: t.TempDir(), Htpasswd: htpasswd})
	assert.ErrorContains(t, err, "the passwords would cross the network in the clear", "Start refuses it")
	s, err := Start(context.Background(), ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err, "no --htpasswd: nothing to protect")
	s.Close()
}

// startForTest starts an embedded registry on a fresh root with a logger writing into log.
func startForTest(t *testing.T, o ServeOptions, log *bytes.Buffer) (*Server, string) {
	t.Helper()
	root := t.TempDir()
	o.Addr, o.Root = "127.0.0.1:0", root
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := Start(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, root
}

func TestStorageErrorsNameNoServerPath(t *testing.T) {
	var log bytes.Buffer
	s, root := startForTest(t, ServeOptions{}, &log)
	repos := filepath.Join(root, "docker", "registry", "v2", "repositories")
	require.NoError(t, os.MkdirAll(repos, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repos, "broken"), []byte("a file where a directory goes"), 0o644))
	resp, err := http.Post(s.URL()+"/v2/broken/blobs/uploads/", "", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.GreaterOrEqual(t, resp.StatusCode, 500)
	assert.Equal(t, storageErrorBody, string(body))
	assert.NotContains(t, string(body), root)
	assert.Contains(t, log.String(), "the registry's storage failed", "the operator's log says why")

	resp, err = http.Get(s.URL() + "/v2/nothing/tags/list")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(body), "NAME_UNKNOWN", "a client's error passes as distribution answers it")
}

func TestPurgeUploads(t *testing.T) {
	s, root := startForTest(t, ServeOptions{UploadAge: time.Hour}, nil)
	n, err := s.PurgeUploads(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing pushed yet")
	begin := func() string {
		resp, err := http.Post(s.URL()+"/v2/app/blobs/uploads/", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		return resp.Header.Get("Docker-Upload-UUID")
	}
	status := func(id string) int {
		resp, err := http.Get(s.URL() + "/v2/app/blobs/uploads/" + id)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	abandoned, fresh := begin(), begin()
	startedAt := filepath.Join(root, "docker", "registry", "v2", "repositories", "app", "_uploads", abandoned, "startedat")
	require.FileExists(t, startedAt)
	require.NoError(t, os.WriteFile(startedAt, []byte(time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339)), 0o644))

	n, err = s.PurgeUploads(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, http.StatusNotFound, status(abandoned), "begun two hours ago: purged")
	assert.Equal(t, http.StatusNoContent, status(fresh), "begun now: kept")
	assert.NoDirExists(t, filepath.Dir(startedAt))
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))
}
