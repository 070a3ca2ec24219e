package ui

import (
	"bytes"
	"strings"
	"testing"
)

// catalogCompare orders names as distribution's catalog lists them: a separator before any character.
func catalogCompare(a, b string) int {
	m := func(s string) []byte { return []byte(strings.ReplaceAll(s, "/", "\x00")) }
	return bytes.Compare(m(a), m(b))
}

func TestBefore(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"", ""},
		{"beta", "bet_~"},
		{"beta/", "beta"},
		{"beta0", "beta.~"},
		{"beta-", "beta/~"},
		{"a", "_~"},
		{"0", ".~"},
		{"Beta", "Beta"},
	} {
		if got := before(tc.prefix); got != tc.want {
			t.Errorf("before(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

// FuzzBefore: listing the catalog after before(prefix) meets every name with the prefix, and every name
// it meets before them sorts after the prefix too (so a page that stops at the first name without the
// prefix has them all).
func FuzzBefore(f *testing.F) {
	for _, s := range [][2]string{{"beta", "beta/api"}, {"beta/", "beta"}, {"beta0", "beta-x"}, {"b-", "b/c"}, {"a/b", "a/b/c"}, {"x", "w"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, name string) {
		if !repoName.MatchString(name) || strings.Trim(prefix, nameOrder) != "" {
			return
		}
		last := before(prefix)
		after := catalogCompare(name, last) > 0 && name != last
		switch {
		case strings.HasPrefix(name, prefix) && !after:
			t.Fatalf("%q has the prefix %q but is not listed after %q", name, prefix, last)
		case !strings.HasPrefix(name, prefix) && catalogCompare(name, prefix) < 0 && after:
			t.Fatalf("%q sorts before the prefix %q but is listed after %q, ahead of the names with the prefix", name, prefix, last)
		}
	})
}
