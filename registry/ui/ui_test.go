package ui_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
	"github.com/shipyardci/shipyard/sign"
)

// served starts the embedded registry with its UI; auth adds the test users, del lets them delete.
func served(t *testing.T, auth, del bool) *registry.Server {
	t.Helper()
	dir := t.TempDir()
	files := registrytest.Files(t, dir, registrytest.Config{Auth: auth})
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: filepath.Join(dir, "data"), Htpasswd: files.Htpasswd, UIDelete: del})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client gets the UI's pages, with the test user's credentials when auth.
type client struct {
	t    *testing.T
	base string
	auth bool
	hc   *http.Client
}

func newClient(t *testing.T, s *registry.Server, auth bool) *client {
	return &client{t: t, base: s.URL(), auth: auth, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values, header ...string) (int, string, http.Header) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.auth {
		req.SetBasicAuth(registrytest.User, registrytest.Password)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	return res.StatusCode, html.UnescapeString(string(data)), res.Header
}

func (c *client) page(path string) string {
	c.t.Helper()
	code, body, _ := c.do(http.MethodGet, path, nil)
	require.Equal(c.t, http.StatusOK, code, "GET %s: %s", path, body)
	return body
}

// create records a release of the showcase's image in env.
func create(t *testing.T, s *registry.Server, sc *registrytest.Showcase, env, digest string, auth bool) {
	t.Helper()
	store := release.RegistryStore{Repository: sc.API, Settle: time.Millisecond, Options: func(ctx context.Context) []remote.Option {
		o := []remote.Option{remote.WithContext(ctx)}
		if auth {
			o = append(o, remote.WithAuth(&authn.Basic{Username: registrytest.User, Password: registrytest.Password}))
		}
		return o
	}}
	r := &release.Record{Env: env, Image: sc.API.String() + "@" + digest, Digest: digest, Version: "1.4.2", CreatedBy: "ci", CreatedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	require.NoError(t, store.Create(context.Background(), r, release.Counter))
}

func attr(page, name string) []string {
	var out []string
	for _, m := range regexp.MustCompile(name+`="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestPagesShowWhatClientsSee(t *testing.T) {
	s := served(t, false, false)
	sc := registrytest.ShowcasePush(t, s.Host(), false)
	create(t, s, sc, "staging", sc.Index.String(), false)
	create(t, s, sc, "staging", sc.Platforms["linux/amd64"].String(), false)
	create(t, s, sc, "prod", sc.Index.String(), false)
	c := newClient(t, s, false)

	home := c.page("/ui/")
	assert.Contains(t, home, `href="/ui/tags?repo=shop%2Fapi"`)
	assert.Contains(t, home, `href="/ui/tags?repo=shop%2Fweb"`)
	assert.Contains(t, home, "read-only")

	tags := c.page("/ui/tags?repo=shop%2Fapi")
	for _, tag := range []string{"1.4.2", "latest", "release-1-prod", "release-1-staging", "release-2-staging", "sha256-" + sc.Index.Hex} {
		assert.Contains(t, attr(tags, "data-tag"), tag)
	}
	assert.Contains(t, attr(tags, "data-digest"), sc.Index.String())
	assert.Contains(t, attr(tags, "data-platform"), "linux/amd64")
	assert.Contains(t, attr(tags, "data-platform"), "linux/arm64")
	assert.Contains(t, attr(tags, "data-revision"), sc.Revs)
	assert.Contains(t, tags, "2026-11-30 09:15:00 UTC")
	assert.NotContains(t, tags, "Delete")

	img := c.page("/ui/image?repo=shop%2Fapi&ref=1.4.2")
	assert.Contains(t, img, "docker pull "+s.Host()+"/shop/api@"+sc.Index.String())
	assert.Contains(t, img, sc.SBOM.String(), "the SBOM is listed as a referrer")
	assert.Contains(t, img, "application/spdx+json")
	assert.Contains(t, img, "current in prod")
	assert.NotContains(t, img, "current in staging", "staging's current release is the amd64 image")

	sbom := c.page("/ui/image?repo=shop%2Fapi&ref=" + sc.SBOM.String())
	read := regexp.MustCompile(`href="(/ui/blob\?[^"]+)"`).FindStringSubmatch(sbom)
	require.NotNil(t, read, "the SBOM's document has a link to read it")
	assert.Contains(t, c.page(read[1]), "SPDX-2.3")

	rel := c.page("/ui/releases?repo=shop%2Fapi")
	assert.Equal(t, []string{"prod", "staging"}, unique(attr(rel, `data-env`)))
	assert.Contains(t, rel, `data-current="v2"`)
	assert.Contains(t, rel, "shipyard release rollback --store registry://"+s.Host()+"/shop/api --env staging --to v1")
	assert.Contains(t, rel, "shipyard release promote --store registry://"+s.Host()+"/shop/api --from staging --to prod")
}

func unique(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func TestDeleteNeedsSignInConfirmationAndToken(t *testing.T) {
	s := served(t, true, true)
	sc := registrytest.ShowcasePush(t, s.Host(), true)
	create(t, s, sc, "prod", sc.Index.String(), true)

	anonymous := newClient(t, s, false)
	code, body, hdr := anonymous.do(http.MethodGet, "/ui/", nil)
	assert.Equal(t, http.StatusUnauthorized, code, body)
	assert.Contains(t, hdr.Get("WWW-Authenticate"), "Basic")
	assert.Contains(t, body, "Sign in")

	c := newClient(t, s, true)
	tags := c.page("/ui/tags?repo=shop%2Fapi")
	assert.Contains(t, tags, "delete enabled")
	assert.Contains(t, tags, `href="/ui/delete?ref=1.4.2&repo=shop%2Fapi"`)

	confirm := c.page("/ui/delete?repo=shop%2Fapi&ref=latest")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(confirm)
	require.NotNil(t, token, confirm)
	form := url.Values{"repo": {"shop/api"}, "ref": {"latest"}}

	for _, tc := range []struct {
		name   string
		c      *client
		form   url.Values
		header []string
		want   int
	}{
		{"no token", c, form, nil, http.StatusForbidden},
		{"another token", c, with(form, "csrf", "AAAA"), nil, http.StatusForbidden},
		{"cross-site", c, with(form, "csrf", token[1]), []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"another origin", c, with(form, "csrf", token[1]), []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"not signed in", anonymous, with(form, "csrf", token[1]), nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := tc.c.do(http.MethodPost, "/ui/delete", tc.form, tc.header...)
			assert.Equal(t, tc.want, code, body)
			assert.Contains(t, apiTags(t, sc), "latest", "nothing was deleted")
		})
	}

	code, body, hdr = c.do(http.MethodPost, "/ui/delete", with(form, "csrf", token[1]), "Origin", s.URL())
	require.Equal(t, http.StatusSeeOther, code, body)
	assert.NotContains(t, apiTags(t, sc), "latest")
	assert.Contains(t, apiTags(t, sc), "1.4.2", "the manifest stays under its other tag")
	assert.Contains(t, c.page(hdr.Get("Location")), "Deleted shop/api:latest.")

	refused := []struct{ ref, why string }{
		{sc.Index.String(), "Release v1 of prod names this digest"},
		{"release-1-prod", "Release records are the history"},
	}
	for _, r := range refused {
		assert.Contains(t, c.page("/ui/delete?repo=shop%2Fapi&ref="+url.QueryEscape(r.ref)), r.why)
		code, body, _ := c.do(http.MethodPost, "/ui/delete", url.Values{"repo": {"shop/api"}, "ref": {r.ref}, "csrf": {token[1]}})
		assert.Equal(t, http.StatusConflict, code, body)
	}
	assert.Contains(t, apiTags(t, sc), "release-1-prod")

	// A digest no release names goes, with its tags.
	code, body, _ = c.do(http.MethodPost, "/ui/delete", url.Values{"repo": {"shop/web"}, "ref": {sc.Web200.String()}, "csrf": {token[1]}})
	require.Equal(t, http.StatusSeeOther, code, body)
	web, err := remote.List(sc.Web, remote.WithAuth(&authn.Basic{Username: registrytest.User, Password: registrytest.Password}))
	require.NoError(t, err)
	assert.Empty(t, web)
}

func with(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for key, vals := range v {
		out[key] = vals
	}
	out.Set(k, val)
	return out
}

// apiTags lists shop/api's tags as a client does.
func apiTags(t *testing.T, sc *registrytest.Showcase) []string {
	t.Helper()
	l, err := remote.List(sc.API, remote.WithAuth(&authn.Basic{Username: registrytest.User, Password: registrytest.Password}))
	require.NoError(t, err)
	return l
}

func TestReadOnlyOffersNoDelete(t *testing.T) {
	for _, tc := range []struct {
		name      string
		auth, del bool
	}{{"no users", false, false}, {"users, delete off", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := served(t, tc.auth, tc.del)
			sc := registrytest.ShowcasePush(t, s.Host(), tc.auth)
			c := newClient(t, s, tc.auth)
			for _, p := range []string{"/ui/tags?repo=shop%2Fapi", "/ui/image?repo=shop%2Fapi&ref=1.4.2"} {
				body := c.page(p)
				assert.NotContains(t, body, "/ui/delete")
				assert.Contains(t, body, "read-only")
			}
			code, body, _ := c.do(http.MethodGet, "/ui/delete?repo=shop%2Fapi&ref=latest", nil)
			assert.Equal(t, http.StatusForbidden, code, body)
			code, body, _ = c.do(http.MethodPost, "/ui/delete", url.Values{"repo": {"shop/api"}, "ref": {"latest"}, "csrf": {"x"}})
			assert.Equal(t, http.StatusForbidden, code, body)
			l, err := remote.List(sc.API, authOption(tc.auth)...)
			require.NoError(t, err)
			assert.Contains(t, l, "latest")
		})
	}
}

func authOption(auth bool) []remote.Option {
	if !auth {
		return nil
	}
	return []remote.Option{remote.WithAuth(&authn.Basic{Username: registrytest.User, Password: registrytest.Password})}
}

func TestRepositoriesSearchAndPages(t *testing.T) {
	s := served(t, false, false)
	_, img := registrytest.Image(t, 64, 1)
	names := []string{"alpha", "beta", "beta-x", "beta/api", "beta/web", "beta0", "betamax", "gamma"}
	for i := range 60 {
		names = append(names, "many/r"+string(rune('a'+i/26))+string(rune('a'+i%26)))
	}
	for _, n := range names {
		require.NoError(t, remote.Write(registrytest.Ref(t, s.Host()+"/"+n+":1"), img))
	}
	c := newClient(t, s, false)
	repos := func(page string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`class="repo" href="[^"]*">([^<]+)<`).FindAllStringSubmatch(page, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for q, want := range map[string][]string{
		"beta":  {"beta", "beta/api", "beta/web", "beta-x", "beta0", "betamax"}, // the catalog's order
		"beta/": {"beta/api", "beta/web"},
		"beta0": {"beta0"},
		"beta-": {"beta-x"},
		"b":     {"beta", "beta/api", "beta/web", "beta-x", "beta0", "betamax"},
		"g":     {"gamma"},
		"many/": names[8:58],
	} {
		assert.Equal(t, want, repos(c.page("/ui/?q="+url.QueryEscape(q))), q)
	}
	assert.Empty(t, repos(c.page("/ui/?q=zzz")))
	assert.Contains(t, c.page("/ui/?q=zzz"), "No repository starts with")

	first := c.page("/ui/")
	assert.Len(t, repos(first), 50)
	next := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(first)
	require.NotNil(t, next)
	second := c.page(next[1])
	assert.Len(t, repos(second), len(names)-50)
	assert.Equal(t, names[len(names)-1], repos(second)[len(names)-51])
	assert.NotContains(t, second, `rel="next"`)
}

func TestBadAddressesAreInputErrors(t *testing.T) {
	s := served(t, false, false)
	registrytest.ShowcasePush(t, s.Host(), false)
	c := newClient(t, s, false)
	for _, tc := range []struct {
		path string
		want int
		says string
	}{
		{"/ui/tags?repo=..%2Fetc", http.StatusBadRequest, "is not a repository name"},
		{"/ui/tags?repo=Shop%2FAPI", http.StatusBadRequest, "is not a repository name"},
		{"/ui/tags?repo=", http.StatusBadRequest, "is not a repository name"},
		{"/ui/image?repo=shop%2Fapi&ref=..%2F..%2Fx", http.StatusBadRequest, "neither a tag nor a sha256 digest"},
		{"/ui/blob?repo=shop%2Fapi&digest=md5%3Aabc", http.StatusBadRequest, "is not a sha256 digest"},
		{"/ui/tags?repo=nothing%2Fhere", http.StatusNotFound, "NAME_UNKNOWN"},
		{"/ui/image?repo=shop%2Fapi&ref=9.9.9", http.StatusNotFound, "MANIFEST_UNKNOWN"},
		{"/ui/nope", http.StatusNotFound, "There is no such page."},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body, hdr := c.do(http.MethodGet, tc.path, nil)
			assert.Equal(t, tc.want, code)
			assert.Contains(t, body, tc.says)
			assert.NotContains(t, body, s.Host()+"/v2", "no API address leaks")
			assert.Contains(t, hdr.Get("Content-Security-Policy"), "default-src 'none'")
		})
	}
}

func TestNoUI(t *testing.T) {
	dir := t.TempDir()
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: dir, NoUI: true})
	require.NoError(t, err)
	defer s.Close()
	res, err := http.Get(s.URL() + "/ui/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	_, err = registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: dir, UIDelete: true})
	var ie interface{ InputOption() string }
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "registry.UIDelete", ie.InputOption())
}

func TestBlobLargerThanTheUIReads(t *testing.T) {
	s := served(t, false, false)
	_, img := registrytest.Image(t, 5<<20, 1)
	ref := registrytest.Ref(t, s.Host()+"/big/blob:1")
	require.NoError(t, remote.Write(ref, img))
	layers, err := img.Layers()
	require.NoError(t, err)
	d, err := layers[0].Digest()
	require.NoError(t, err)
	code, body, _ := newClient(t, s, false).do(http.MethodGet, "/ui/blob?repo=big%2Fblob&digest="+d.String(), nil)
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Contains(t, body, "is larger than the 4 MiB the UI reads")
}

func TestPagesShowWhetherADigestIsSigned(t *testing.T) {
	s := served(t, false, false)
	sc := registrytest.ShowcasePush(t, s.Host(), false)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	key, err := sign.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil, "key")
	require.NoError(t, err)
	_, err = sign.Images(context.Background(), sign.Request{Key: key, Repository: sc.API, Digests: []string{sc.Index.String()}, Provenance: &sign.Provenance{Commit: sc.Revs}})
	require.NoError(t, err)

	c := newClient(t, s, false)
	tags := c.page("/ui/tags?repo=shop%2Fapi")
	row := func(tag string) string {
		i := strings.Index(tags, `data-tag="`+tag+`"`)
		require.GreaterOrEqual(t, i, 0, tag)
		return tags[i : i+strings.Index(tags[i:], "</tr>")]
	}
	assert.Contains(t, row("1.4.2"), `class="badge ok signed"`)
	assert.Contains(t, row("1.4.2"), "signature, SLSA provenance")
	web := c.page("/ui/tags?repo=shop%2Fweb")
	assert.NotContains(t, web, "signed")

	img := c.page("/ui/image?repo=shop%2Fapi&ref=1.4.2")
	assert.Contains(t, img, "Sigstore bundles: signature, SLSA provenance.")
	assert.Contains(t, img, "shipyard verify "+s.Host()+"/shop/api@"+sc.Index.String()+" --key cosign.pub")
	platform := c.page("/ui/image?repo=shop%2Fapi&ref=" + sc.Platforms["linux/amd64"].String())
	assert.Contains(t, platform, "not signed")
}
