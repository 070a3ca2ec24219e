package build

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSourceURL(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"https://github.com/acme/api.git", "https://github.com/acme/api"},
		{"https://x-access-token:ghs_0123456789abcdef@github.com/acme/api.git", "https://github.com/acme/api"},
		{"https://oauth2:glpat-secret@gitlab.example.com/group/sub/api", "https://gitlab.example.com/group/sub/api"},
		{"https://user@bitbucket.org/acme/api.git", "https://bitbucket.org/acme/api"},
		{"https://github.com/acme/api.git?token=abc#frag", "https://github.com/acme/api"},
		{"http://git.internal:8080/acme/api.git", "http://git.internal:8080/acme/api"},
		{"git@github.com:acme/api.git", "https://github.com/acme/api"},
		{"github.com:acme/api", "https://github.com/acme/api"},
		{"ssh://git@github.com/acme/api.git", "https://github.com/acme/api"},
		{"ssh://git@bitbucket.example.com:7999/acme/api.git", "https://bitbucket.example.com/acme/api"},
		{"git://github.com/acme/api.git", "https://github.com/acme/api"},
		{"  https://github.com/acme/api/  \n", "https://github.com/acme/api"},
		{"/srv/git/api.git", ""},
		{"file:///srv/git/api.git", ""},
		{"../api", ""},
		{"", ""},
	} {
		assert.Equal(t, tc.want, SourceURL(tc.remote), tc.remote)
	}
}

func TestWithoutCredentials(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://x-access-token:ghs_secret@github.com/o/r", "https://github.com/o/r"},
		{"see https://u:p@a.example/x and postgres://app:pw@db:5432/app", "see https://a.example/x and postgres://db:5432/app"},
		{"no url here: a@b", "no url here: a@b"},
		{"https://github.com/o/r?x=@y", "https://github.com/o/r?x=@y"},
	} {
		assert.Equal(t, tc.want, WithoutCredentials(tc.in), tc.in)
	}
}

// FuzzSourceURL: whatever the remote, the URL has no user-info, and its password appears nowhere in it.
func FuzzSourceURL(f *testing.F) {
	for _, s := range []string{"https://x:tok@github.com/o/r.git", "git@github.com:o/r.git", "ssh://git@h:22/o/r", "/a/b", "https://h/p?q#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, remote string) {
		got := SourceURL(remote)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("SourceURL(%q) = %q, not a URL: %v", remote, got, err)
		}
		if u.User != nil {
			t.Fatalf("SourceURL(%q) = %q keeps user-info", remote, got)
		}
		if in, err := url.Parse(remote); err == nil && in.User != nil {
			if pw, ok := in.User.Password(); ok && len(pw) > 3 && strings.Contains(got, pw) {
				t.Fatalf("SourceURL(%q) = %q holds the password", remote, got)
			}
		}
		if u.Scheme != "https" && u.Scheme != "http" {
			t.Fatalf("SourceURL(%q) = %q is not a web URL", remote, got)
		}
	})
}
