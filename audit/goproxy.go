package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// GoProxy speaks the GOPROXY protocol to the proxies of a GOPROXY list, as the go command does: on a
// not-found answer (404, 410) the next entry after a comma is asked, after a pipe on any error; "off"
// refuses, "direct" means the module's own repository, which only the go command can read.
//
// A GoProxy remembers every answer it was given, so that one module's list or go.mod is read once in a
// scan however many lookups need it (and one lookup may start before the build list is known): make one
// for each scan.
type GoProxy struct {
	entries []proxyEntry
	private string // GONOPROXY (default GOPRIVATE) patterns: these go direct
	client  *http.Client
	netrc   []netrcLine

	mu    sync.Mutex
	known map[string]*answer // by module path and "@v/list", "@latest", "@v/VERSION.mod"…
}

// answer is one request's answer, ready once done is closed. An answer cut short by its caller's
// context (retry) is asked again by whoever needs it next.
type answer struct {
	done  chan struct{}
	data  []byte
	err   error
	retry bool
}

type proxyEntry struct {
	url         string // https://…, file://…, "direct" or "off"
	nextOnError bool   // separated from the next by "|": any error moves on
}

// ErrDirect says a module is to be read from its repository (GOPROXY direct, GONOPROXY, GOPRIVATE).
var ErrDirect = errors.New("read from its repository (GOPROXY=direct, GOPRIVATE or GONOPROXY), which needs the go command")

// ErrLookupsOff is GOPROXY=off: the versions are not looked up, on purpose.
var ErrLookupsOff = errors.New("module lookups are off (GOPROXY=off)")

// errNotFound is a proxy's 404 or 410.
var errNotFound = errors.New("not found")

// NewGoProxy reads GOPROXY, GOPRIVATE, GONOPROXY and NETRC (else ~/.netrc) through getenv.
func NewGoProxy(getenv func(string) string, client *http.Client) (*GoProxy, error) {
	list := getenv("GOPROXY")
	if list == "" {
		list = "https://proxy.golang.org,direct"
	}
	p := &GoProxy{client: client, private: getenv("GONOPROXY")}
	if p.private == "" {
		p.private = getenv("GOPRIVATE")
	}
	for list != "" {
		i := strings.IndexAny(list, ",|")
		entry, sep := list, byte(0)
		if i >= 0 {
			entry, sep, list = list[:i], list[i], list[i+1:]
		} else {
			list = ""
		}
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if entry != "direct" && entry != "off" {
			u, err := url.Parse(entry)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") {
				return nil, &InputError{File: "GOPROXY", Msg: fmt.Sprintf("%q is not an https://, http:// or file:// URL, direct or off", entry)}
			}
			entry = strings.TrimSuffix(entry, "/")
		}
		p.entries = append(p.entries, proxyEntry{url: entry, nextOnError: sep == '|'})
	}
	netrcPath := getenv("NETRC")
	if netrcPath == "" && getenv("HOME") != "" {
		netrcPath = filepath.Join(getenv("HOME"), ".netrc")
	}
	if data, err := os.ReadFile(netrcPath); err == nil {
		p.netrc = parseNetrc(string(data))
	}
	return p, nil
}

// get fetches $proxy/<module>/@<what> from the first proxy that has it, once: a request asked before, or
// being asked, gets the same answer.
func (p *GoProxy) get(ctx context.Context, path, what string) ([]byte, error) {
	key := path + "/" + what
	for {
		p.mu.Lock()
		a, asked := p.known[key]
		if !asked {
			if p.known == nil {
				p.known = map[string]*answer{}
			}
			a = &answer{done: make(chan struct{})}
			p.known[key] = a
		}
		p.mu.Unlock()
		if !asked {
			a.data, a.err = p.ask(ctx, path, what)
			if a.err != nil && ctx.Err() != nil {
				a.retry = true
				p.mu.Lock()
				delete(p.known, key)
				p.mu.Unlock()
			}
			close(a.done)
			return a.data, a.err
		}
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !a.retry {
			return a.data, a.err
		}
	}
}

// ask fetches $proxy/<module>/@<what> from the first proxy that has it.
func (p *GoProxy) ask(ctx context.Context, path, what string) ([]byte, error) {
	if module.MatchPrefixPatterns(p.private, path) {
		return nil, ErrDirect
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return nil, fmt.Errorf("module path %q: %w", path, err)
	}
	var last error = ErrDirect
	for _, e := range p.entries {
		switch e.url {
		case "off":
			return nil, fmt.Errorf("%s: %w", path, ErrLookupsOff)
		case "direct":
			return nil, ErrDirect
		}
		data, err := p.fetch(ctx, e.url+"/"+escaped+"/"+what)
		if err == nil {
			return data, nil
		}
		last = err
		if !errors.Is(err, errNotFound) && !e.nextOnError {
			return nil, err
		}
	}
	return nil, last
}

func (p *GoProxy) fetch(ctx context.Context, rawURL string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(rawURL, "file://"); ok {
		data, err := os.ReadFile(filepath.FromSlash(rest))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", rawURL, errNotFound)
		}
		return data, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	if login, password, ok := netrcLookup(p.netrc, req.URL.Hostname()); ok {
		req.SetBasicAuth(login, password)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%s: %w", redactURL(req.URL), errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s", redactURL(req.URL), resp.Status)
	}
	return body, nil
}

func redactURL(u *url.URL) string { return u.Redacted() }

// Versions lists the tagged versions of a module, valid semantic versions only. A pseudo-version that
// the proxy lists (because someone fetched that commit) is no tag, and the go command ignores it too.
func (p *GoProxy) Versions(ctx context.Context, path string) ([]string, error) {
	data, err := p.get(ctx, path, "@v/list")
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range strings.Fields(string(data)) {
		if module.IsPseudoVersion(v) {
			continue
		}
		if semver.IsValid(v) && v == semver.Canonical(v) || semver.Build(v) == "+incompatible" {
			out = append(out, v)
		}
	}
	semver.Sort(out)
	return out, nil
}

// VersionInfo is a proxy's .info: a version and when it was published.
type VersionInfo struct {
	Version string
	Time    time.Time
}

// Info reads the .info of a version.
func (p *GoProxy) Info(ctx context.Context, path, version string) (*VersionInfo, error) {
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return nil, err
	}
	data, err := p.get(ctx, path, "@v/"+ev+".info")
	if err != nil {
		return nil, err
	}
	return decodeInfo(data)
}

// Latest is the proxy's @latest: the newest version when the module has no tags (a pseudo-version).
func (p *GoProxy) Latest(ctx context.Context, path string) (*VersionInfo, error) {
	data, err := p.get(ctx, path, "@latest")
	if errors.Is(err, errNotFound) || errors.Is(err, ErrDirect) { // a proxy without it, then direct
		return p.latestListed(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	return decodeInfo(data)
}

// latestListed is what the go command takes when a proxy has no @latest: the newest version of the
// list, pseudo-versions included, by the time they were made, then by version.
func (p *GoProxy) latestListed(ctx context.Context, path string) (*VersionInfo, error) {
	data, err := p.get(ctx, path, "@v/list")
	if err != nil {
		return nil, err
	}
	var best VersionInfo
	for _, v := range strings.Fields(string(data)) {
		if !semver.IsValid(v) {
			continue
		}
		t, err := module.PseudoVersionTime(v)
		if err != nil {
			if info, ierr := p.Info(ctx, path, v); ierr == nil {
				t = info.Time
			}
		}
		if best.Version == "" || t.After(best.Time) || t.Equal(best.Time) && semver.Compare(v, best.Version) > 0 {
			best = VersionInfo{Version: v, Time: t}
		}
	}
	if best.Version == "" {
		return nil, fmt.Errorf("%s: no version: %w", path, errNotFound)
	}
	return &best, nil
}

func decodeInfo(data []byte) (*VersionInfo, error) {
	var info VersionInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("reading version info: %w", err)
	}
	return &info, nil
}

// Mod reads the go.mod of a version.
func (p *GoProxy) Mod(ctx context.Context, path, version string) ([]byte, error) {
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return nil, err
	}
	return p.get(ctx, path, "@v/"+ev+".mod")
}
