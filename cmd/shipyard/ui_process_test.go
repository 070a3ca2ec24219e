package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/internal/testenv"
)

// serveUI starts `shipyard registry serve` on root at host with more flags, and waits until it listens.
func serveUI(t *testing.T, root, host string, flags ...string) func() {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"registry", "serve", "--addr", host, "--root", root}, flags...)...)
	require.NoError(t, cmd.Start())
	stop := func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	}
	t.Cleanup(stop)
	registrytest.WaitReady(t, host)
	return stop
}

// browser starts a headless Chromium for the test, with the flags it needs as root here.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testenv.Tool(t, "chromium", ".ci/run installs it")
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	require.NoError(t, chromedp.Do(ctx), "starting chromium")
	return ctx
}

// visit opens a page, waits for it, and saves a screenshot of it under the test's artifacts.
func visit(t *testing.T, ctx context.Context, url, shot string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("main"))), "opening %s", url)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "a screenshot of %s", url)
	path := filepath.Join(t.ArtifactDir(), shot+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot of %s: %s", url, path)
}

// eval is the value of a JavaScript expression on the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	require.NoError(t, err, js)
	return v
}

// texts are the trimmed texts of what selector finds, attr's value instead when attr is given.
func texts(t *testing.T, ctx context.Context, selector, attr string) []string {
	t.Helper()
	get := "e.textContent.trim()"
	if attr != "" {
		get = fmt.Sprintf("e.getAttribute(%q)", attr)
	}
	return eval[[]string](t, ctx, fmt.Sprintf("[...document.querySelectorAll(%q)].map(e => %s)", selector, get))
}

// lowContrast lists the texts of the page whose contrast with their background is below WCAG AA.
const lowContrast = `(() => {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(e);
    if (st.visibility === 'hidden' || st.display === 'none' || e.closest('.sr, .skip, .live')) continue;
    const a = lum(rgb(st.color)), b = lum(bg(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(e.tagName + ' "' + e.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return out;
})()`

// TestRegistryUIInABrowser: after pushes of a multi-platform image with an SBOM and three releases in
// two environments, the UI's pages in headless Chromium show the repositories, tags, digests, sizes,
// platforms, referrers and each environment's current release as crane and `shipyard release list -o json`
// report them; read-only it offers no delete, and with --ui-delete a tag deleted from the UI is gone for
// crane ls. A screenshot of each page is written under the test's artifacts (go test -artifacts).
func TestRegistryUIInABrowser(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	files := registrytest.Files(t, dir, registrytest.Config{Auth: true})
	host := fmt.Sprintf("127.0.0.1:%d", registrytest.FreePort(t))
	stop := serveUI(t, files.Root, host)
	sc := registrytest.ShowcasePush(t, host, false)
	store := "registry://" + host + "/shop/api"
	amd64 := sc.Platforms["linux/amd64"].String()
	for _, args := range [][]string{
		{"release", "create", "--store", store, "--env", "staging", "--image", sc.API.String() + "@" + sc.Index.String(), "--version", "1.4.2", "--migration-version", "0"},
		{"release", "promote", "--store", store, "--from", "staging", "--to", "prod"},
		{"release", "create", "--store", store, "--env", "staging", "--image", sc.API.String() + "@" + amd64, "--version", "1.4.3", "--migration-version", "0"},
	} {
		_, stderr, code := shipyard(t, append([]string{"-C", dir}, args...)...)
		require.Zero(t, code, "%v: %s", args, stderr)
	}
	base := "http://" + host + "/ui/"

	// Repositories: what crane catalog lists.
	visit(t, ctx, base, "repositories")
	assert.Equal(t, strings.Fields(peer(t, nil, "crane", "catalog", host)), texts(t, ctx, ".repos .repo", ""))
	assert.Equal(t, []string{"read-only"}, texts(t, ctx, ".mode .badge", ""))

	// Tags: crane ls's tags, each with the digest crane digest gives.
	visit(t, ctx, base+"tags?repo=shop%2Fapi", "tags")
	tags := strings.Fields(peer(t, nil, "crane", "ls", host+"/shop/api"))
	for _, tag := range []string{"1.4.2", "latest", "sha256-" + sc.Index.Hex, "release-1-staging", "release-2-staging", "release-1-prod"} {
		require.Contains(t, tags, tag, "the versions, the SBOM's fallback tag and the release records")
	}
	assert.ElementsMatch(t, tags, texts(t, ctx, "tr[data-tag]", "data-tag"))
	for _, tag := range tags {
		digest := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('tr[data-tag=%q] .digest').dataset.digest`, tag))
		assert.Equal(t, peer(t, nil, "crane", "digest", host+"/shop/api:"+tag), digest, tag)
	}
	assert.Empty(t, texts(t, ctx, "a.danger", ""), "read-only: no delete")

	// Platforms and sizes: the index's platforms, each the sum of its layers as crane manifest lists them.
	var index struct {
		Manifests []struct {
			Digest   string
			Platform struct{ OS, Architecture string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(peer(t, nil, "crane", "manifest", host+"/shop/api:1.4.2")), &index))
	var platforms, sizes []string
	for _, m := range index.Manifests {
		platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
		var im struct{ Layers []struct{ Size int64 } }
		require.NoError(t, json.Unmarshal([]byte(peer(t, nil, "crane", "manifest", host+"/shop/api@"+m.Digest)), &im))
		var n int64
		for _, l := range im.Layers {
			n += l.Size
		}
		sizes = append(sizes, fmt.Sprint(n))
	}
	assert.Equal(t, platforms, texts(t, ctx, `tr[data-tag="1.4.2"] li[data-platform]`, "data-platform"))
	assert.Equal(t, sizes, texts(t, ctx, `tr[data-tag="1.4.2"] li[data-platform]`, "data-bytes"))

	// The image: its referrers are the SBOM, as the fallback tag crane reads lists them.
	visit(t, ctx, base+"image?repo=shop%2Fapi&ref=1.4.2", "image")
	var referrers struct{ Manifests []struct{ Digest string } }
	require.NoError(t, json.Unmarshal([]byte(peer(t, nil, "crane", "manifest", host+"/shop/api:sha256-"+sc.Index.Hex)), &referrers))
	require.Len(t, referrers.Manifests, 1)
	assert.Equal(t, []string{referrers.Manifests[0].Digest}, texts(t, ctx, ".referrers tr[data-digest]", "data-digest"))
	assert.Equal(t, []string{"current in prod"}, texts(t, ctx, "#uses li strong", ""))
	assert.Contains(t, texts(t, ctx, "#uses li", ""), "current in prod: release v1 (#1)")
	assert.Equal(t, []string{host + "/shop/api@" + sc.Index.String()}, texts(t, ctx, "#pinned", ""))

	// The copy button copies the pinned reference, and says so.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Copy the reference by digest"]`)),
		chromedp.WaitVisible(chromedp.CSS("#live.on"))))
	assert.Equal(t, []string{"Copied " + host + "/shop/api@" + sc.Index.String()}, texts(t, ctx, "#live", ""))

	visit(t, ctx, base+"image?repo=shop%2Fapi&ref="+sc.SBOM.String(), "sbom")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href^="/ui/blob"]`)), chromedp.WaitReady(chromedp.CSS("#document"))))
	assert.Contains(t, texts(t, ctx, "#document", "")[0], `"spdxVersion": "SPDX-2.3"`)

	// Releases: each environment's current release, as shipyard release list -o json gives it.
	visit(t, ctx, base+"releases?repo=shop%2Fapi", "releases")
	for _, env := range []string{"staging", "prod"} {
		out, stderr, code := shipyard(t, "-C", dir, "-o", "json", "release", "list", "--store", store, "--env", env)
		require.Zero(t, code, stderr)
		var listing struct {
			Releases []struct{ Name, Digest string }
		}
		require.NoError(t, json.Unmarshal([]byte(out), &listing), out)
		list := listing.Releases
		require.NotEmpty(t, list, env)
		current := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('section[data-env=%q] .current').dataset.current`, env))
		digest := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('section[data-env=%q] .current .digest').dataset.digest`, env))
		assert.Equal(t, list[0].Name, current, env)
		assert.Equal(t, list[0].Digest, digest, env)
		var names []string
		for _, r := range list {
			names = append(names, r.Name)
		}
		assert.Equal(t, names, texts(t, ctx, fmt.Sprintf("section[data-env=%q] tbody tr", env), "data-name"), env)
	}

	// Keyboard: the first Tab reaches the skip link; every control has a name.
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\t")))
	assert.Equal(t, "skip", eval[string](t, ctx, `document.activeElement.className`))
	assert.Zero(t, eval[int](t, ctx, `[...document.querySelectorAll('button, a, input:not([type=hidden])')].filter(e => !(e.getAttribute('aria-label') || e.textContent.trim() || (e.labels && e.labels.length))).length`))

	// Contrast: every text on every page meets WCAG AA (4.5:1, 3:1 for large text).
	for _, page := range []string{"", "tags?repo=shop%2Fapi", "image?repo=shop%2Fapi&ref=1.4.2", "releases?repo=shop%2Fapi"} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+page), chromedp.WaitReady(chromedp.CSS("main"))))
		assert.Empty(t, eval[[]string](t, ctx, lowContrast), "texts below WCAG AA contrast on /ui/%s", page)
	}

	// A narrow screen: the tags become cards, nothing wider than the screen.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)))
	visit(t, ctx, base+"tags?repo=shop%2Fapi", "tags-narrow")
	assert.False(t, eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`), "the tags page scrolls sideways on a narrow screen")
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)))

	// Delete enabled: the same data served with users and --ui-delete; the signed-in user deletes latest.
	stop()
	serveUI(t, files.Root, host, "--htpasswd", files.Htpasswd, "--ui-delete")
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(registrytest.User+":"+registrytest.Password))
	_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
	require.NoError(t, err)
	visit(t, ctx, base+"tags?repo=shop%2Fapi", "tags-delete-enabled")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-tag="latest"] a.danger`)), chromedp.WaitReady(chromedp.CSS("form.confirm"))))
	visit(t, ctx, base+"delete?repo=shop%2Fapi&ref=latest", "delete-confirm")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form.confirm button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".flash"))))
	assert.Equal(t, []string{"Deleted shop/api:latest."}, texts(t, ctx, ".flash", ""))
	dockerConfig := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dockerConfig, "config.json"),
		fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, strings.TrimPrefix(auth, "Basic ")), 0o600))
	after := strings.Fields(peer(t, []string{"DOCKER_CONFIG=" + dockerConfig}, "crane", "ls", host+"/shop/api"))
	assert.NotContains(t, after, "latest")
	assert.Contains(t, after, "1.4.2")
}
