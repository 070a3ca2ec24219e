package audit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/goproxytest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestGoProxyList(t *testing.T) {
	fixture := writeGoProxy(t, map[string][]goproxytest.Version{"example.com/a": {{Version: "v1.0.0", Time: day(1)}}})
	empty := t.TempDir()
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		switch {
		case strings.HasPrefix(r.URL.Path, "/gone/"):
			http.Error(w, "gone", http.StatusGone)
		case strings.HasPrefix(r.URL.Path, "/broken/"):
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			_, _ = w.Write([]byte("v1.0.0\nv1.1.0\nnot-a-version\n"))
		}
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name, goproxy, private string
		want                   []string
		err                    string
	}{
		{"file proxy", "file://" + fixture, "", []string{"v1.0.0"}, ""},
		{"not found moves on after a comma", "file://" + empty + "," + srv.URL + "/ok", "", []string{"v1.0.0", "v1.1.0"}, ""},
		{"410 moves on", srv.URL + "/gone," + srv.URL + "/ok", "", []string{"v1.0.0", "v1.1.0"}, ""},
		{"an error stops after a comma", srv.URL + "/broken," + srv.URL + "/ok", "", nil, "500 Internal Server Error"},
		{"an error moves on after a pipe", srv.URL + "/broken|" + srv.URL + "/ok", "", []string{"v1.0.0", "v1.1.0"}, ""},
		{"off", "off", "", nil, "module lookups are off (GOPROXY=off)"},
		{"direct", "direct", "", nil, ErrDirect.Error()},
		{"GOPRIVATE goes direct", srv.URL + "/ok", "example.com/*", nil, ErrDirect.Error()},
		{"nowhere has it", "file://" + empty, "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewGoProxy(env(map[string]string{"GOPROXY": tc.goproxy, "GOPRIVATE": tc.private}), srv.Client())
			require.NoError(t, err)
			got, err := p.Versions(context.Background(), "example.com/a")
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := NewGoProxy(env(map[string]string{"GOPROXY": "ftp://example.com"}), nil)
	assert.EqualError(t, err, `GOPROXY: "ftp://example.com" is not an https://, http:// or file:// URL, direct or off`)
}

func TestGoProxyNetrc(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		_, _ = w.Write([]byte("v1.0.0\n"))
	}))
	defer srv.Close()
	netrc := filepath.Join(t.TempDir(), "netrc")
	require.NoError(t, os.WriteFile(netrc, []byte("machine other.example.com login x password y\n\nmachine 127.0.0.1\n  login ci\n  password s3cret\n"), 0o600))
	p, err := NewGoProxy(env(map[string]string{"GOPROXY": srv.URL, "NETRC": netrc}), srv.Client())
	require.NoError(t, err)
	_, err = p.Versions(context.Background(), "example.com/a")
	require.NoError(t, err)
	assert.Equal(t, "Basic Y2k6czNjcmV0", auth, "ci:s3cret")
}

func TestParseNetrc(t *testing.T) {
	got := parseNetrc("machine a.example login u1 password p1\nmacdef init\n machine evil login e password e\n\ndefault login d password d\nmachine b.example\n\tlogin u2\n\tpassword p2 account x\n")
	assert.Equal(t, []netrcLine{{"a.example", "u1", "p1"}, {"b.example", "u2", "p2"}}, got)
}

func FuzzParseGoMod(f *testing.F) {
	f.Add([]byte(goFixtureMod))
	f.Add([]byte("module x\nrequire (\n\ta v1\n"))
	f.Add([]byte("module example.com/m\n\ngo 1.22\n\nrequire example.com/a v1.0.0 // indirect\nexclude example.com/a v0.9.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseGoMod("go.mod", data)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) || in.File != "go.mod" || in.Line < 0 || in.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("error %v is not an InputError naming go.mod and a line", err)
			}
			return
		}
		if m.Path == "" {
			t.Fatal("a module without a path")
		}
	})
}

func TestParseGoModErrors(t *testing.T) {
	_, err := ParseGoMod("go.mod", []byte("module example.com/m\n\nrequire (\n\texample.com/a\n)\n"))
	assert.EqualError(t, err, "go.mod:4: usage: require module/path v1.2.3")
	_, err = ParseGoMod("go.mod", []byte("go 1.22\n"))
	assert.EqualError(t, err, "go.mod:1: no module directive")
	_, err = ReadGoMod(filepath.Join(t.TempDir(), "go.mod"))
	assert.ErrorContains(t, err, "go.mod: cannot read it: no such file or directory")
}

func FuzzParseNetrc(f *testing.F) {
	f.Add("machine a login b password c\nmacdef x\n y\n\ndefault login d password e\n")
	f.Add("machine")
	f.Fuzz(func(t *testing.T, data string) {
		for _, l := range parseNetrc(data) {
			if l.machine == "" || !strings.Contains(data, l.machine) {
				t.Fatalf("machine %q from nowhere in %q", l.machine, data)
			}
		}
	})
}
