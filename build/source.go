package build

import (
	"net/url"
	"regexp"
	"strings"
)

// scpLike is git's scp-like SSH form of a remote: [user@]host:path.
var scpLike = regexp.MustCompile(`^(?:[^@/:]+@)?([A-Za-z0-9.-]+):([^/].*)$`)

// SourceURL is the public URL of a repository from its git remote, for the image's
// org.opencontainers.image.source: the user-info removed (a CI token, as in
// https://x-access-token:TOKEN@github.com/o/r.git), SSH forms (git@host:o/r.git, ssh://git@host/o/r)
// rewritten to https, the query, the fragment and ".git" dropped. A remote that is no network URL (a
// path, file://) gives "".
func SourceURL(remote string) string {
	remote = strings.TrimSpace(remote)
	if m := scpLike.FindStringSubmatch(remote); m != nil && !strings.Contains(remote, "://") {
		remote = "ssh://" + m[1] + "/" + m[2]
	}
	u, err := url.Parse(remote)
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "ssh", "git", "git+ssh", "ssh+git":
		u.Scheme, u.Host = "https", u.Hostname() // the SSH port is not the web server's
	case "https", "http":
	default:
		return ""
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	u.RawPath = ""
	return u.String()
}

// urlUserinfo is the user-info of a URL: scheme://user:password@.
var urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@]*@`)

// WithoutCredentials is s with the user-info of every URL in it removed: what goes into an image's
// labels and annotations never carries a password or a token.
func WithoutCredentials(s string) string {
	return urlUserinfo.ReplaceAllString(s, "$1")
}
