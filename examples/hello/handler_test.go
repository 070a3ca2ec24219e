package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// testDB is a SQLite database with the example's migrations applied, as shipyard migrate would.
func testDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openDB("sqlite://" + filepath.Join(t.TempDir(), "hello.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ups, err := filepath.Glob("migrations/*.up.sql")
	if err != nil || len(ups) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	for _, path := range ups {
		sqlText, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(sqlText)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return db
}

func get(t *testing.T, h http.Handler, path string) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, rec.Body)
	}
	return rec.Code, body
}

func TestHandler(t *testing.T) {
	h := newHandler(testDB(t), "1.2.3")
	tests := []struct {
		path   string
		status int
		key    string
		want   string
	}{
		{"/healthz", http.StatusOK, "status", "ok"},
		{"/version", http.StatusOK, "version", "1.2.3"},
		{"/greetings/fr", http.StatusOK, "text", "Bonjour"},
		{"/greetings/xx", http.StatusNotFound, "error", "no greeting for xx"},
	}
	for _, tt := range tests {
		status, body := get(t, h, tt.path)
		if status != tt.status || body[tt.key] != tt.want {
			t.Errorf("GET %s = %d %v, want %d %s=%q", tt.path, status, body, tt.status, tt.key, tt.want)
		}
	}
}

func TestHealthzWithoutDatabase(t *testing.T) {
	db := testDB(t)
	db.Close()
	status, body := get(t, newHandler(db, "dev"), "/healthz")
	if status != http.StatusServiceUnavailable || body["status"] != "unavailable" {
		t.Errorf("GET /healthz on a closed database = %d %v", status, body)
	}
}

func TestOpenDB(t *testing.T) {
	_, err := openDB("mysql://root:s3cret@localhost/db")
	if err == nil {
		t.Fatal("want an error for an unsupported scheme")
	}
	if got := err.Error(); got != `DATABASE_URL: unsupported scheme in "mysql://root:xxxxx@localhost/db" (want sqlite:// or postgres://)` {
		t.Errorf("error %q: the password must be redacted", got)
	}
}
