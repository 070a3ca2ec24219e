package npmrc

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRead(t *testing.T) {
	dir, home := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, ".npmrc"), []byte("registry=https://user.example/\n//user.example/:_authToken=u\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".npmrc"), []byte("registry=https://r.example/npm\n@acme:registry=https://a.example\n//a.example/:_authToken=${TOKEN}\n//r.example/npm/:_authToken=r\n"), 0o600))
	env := map[string]string{"HOME": home, "TOKEN": "t0k"}
	c, err := Read(dir, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, "https://r.example/npm/", c.RegistryFor("left-pad"))
	assert.Equal(t, "https://a.example/", c.RegistryFor("@acme/lib"))
	assert.Equal(t, "https://r.example/npm/", c.RegistryFor("@other/lib"))
	for u, want := range map[string]string{"https://a.example/@acme%2flib": "t0k", "https://r.example/npm/x": "r", "https://user.example/x": "u", "https://elsewhere/x": ""} {
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		assert.Equal(t, want, c.Token(parsed), u)
	}
	assert.ElementsMatch(t, []string{"t0k", "r", "u"}, c.Tokens())
	assert.Equal(t, "@acme%2Flib", PackagePath("@acme/lib"))

	env["NPM_CONFIG_REGISTRY"] = "https://env.example"
	c, err = Read(dir, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, "https://env.example/", c.Registry)
}

func FuzzReadNpmrc(f *testing.F) {
	f.Add("registry=https://r.example/\n@acme:registry=https://a.example\n//r.example/:_authToken=${TOKEN}\n; comment\n")
	f.Add("no equals sign")
	f.Fuzz(func(t *testing.T, data string) {
		c := &Config{Scopes: map[string]string{}, auth: map[string]string{}}
		err := c.read(".npmrc", data, func(string) string { return "secret" })
		if err != nil {
			var in *Error
			if !errors.As(err, &in) || in.Line < 1 || in.Line > strings.Count(data, "\n")+1 {
				t.Fatalf("%v: not an Error on a line of the file", err)
			}
		}
	})
}
