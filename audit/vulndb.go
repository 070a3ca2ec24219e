package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultVulnDB is the Go vulnerability database.
const DefaultVulnDB = "https://vuln.go.dev"

// VulnDB is a source of OSV advisories: a database in the Go vulnerability database's layout
// (index/modules.json and ID/<id>.json) over https:// or file://, or a file:// directory of OSV JSON
// files of any ecosystem (an osv.dev export).
type VulnDB struct {
	base   string
	dir    string // the directory of a file:// database
	client *http.Client

	once    sync.Once
	loadErr error
	index   map[string][]string // Go layout: module path → advisory ids
	byName  map[string][]*OSV   // a directory of entries: "ecosystem/name" → advisories

	mu      sync.Mutex
	entries map[string]*OSV
}

// OpenVulnDB opens the database at rawURL (https://… or file://DIR).
func OpenVulnDB(rawURL string, client *http.Client) (*VulnDB, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") {
		return nil, &InputError{Option: "audit.VulnDB", Msg: fmt.Sprintf("%q is not an https:// or file:// URL", rawURL)}
	}
	db := &VulnDB{base: strings.TrimSuffix(rawURL, "/"), client: client, entries: map[string]*OSV{}}
	if u.Scheme == "file" {
		db.dir = filepath.FromSlash(u.Path)
		if info, err := os.Stat(db.dir); err != nil || !info.IsDir() {
			return nil, &InputError{Option: "audit.VulnDB", Msg: fmt.Sprintf("%s is not a directory", db.dir)}
		}
	}
	return db, nil
}

// URL is where the database is.
func (db *VulnDB) URL() string { return db.base }

func (db *VulnDB) read(ctx context.Context, rel string) ([]byte, error) {
	if db.dir != "" {
		return os.ReadFile(filepath.Join(db.dir, filepath.FromSlash(rel)))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, db.base+"/"+rel, nil)
	if err != nil {
		return nil, err
	}
	resp, err := db.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the vulnerability database: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading %s/%s: %s", db.base, rel, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s/%s: %w", db.base, rel, err)
	}
	return data, nil
}

// load reads the index, or every entry of a directory without one.
func (db *VulnDB) load(ctx context.Context) error {
	db.once.Do(func() {
		data, err := db.read(ctx, "index/modules.json")
		if err == nil {
			var mods []struct {
				Path  string `json:"path"`
				Vulns []struct {
					ID string `json:"id"`
				} `json:"vulns"`
			}
			if err := json.Unmarshal(data, &mods); err != nil {
				db.loadErr = fmt.Errorf("reading %s/index/modules.json: %w", db.base, err)
				return
			}
			db.index = map[string][]string{}
			for _, m := range mods {
				for _, v := range m.Vulns {
					db.index[m.Path] = appendUnique(db.index[m.Path], v.ID)
				}
			}
			return
		}
		if db.dir == "" || !errors.Is(err, fs.ErrNotExist) {
			db.loadErr = err
			return
		}
		db.byName = map[string][]*OSV{}
		db.loadErr = filepath.WalkDir(db.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var o OSV
			if json.Unmarshal(data, &o) != nil || o.ID == "" {
				return nil // not an advisory
			}
			for _, a := range o.Affected {
				key := a.Package.Ecosystem + "/" + a.Package.Name
				if n := len(db.byName[key]); n == 0 || db.byName[key][n-1] != &o {
					db.byName[key] = append(db.byName[key], &o)
				}
			}
			return nil
		})
	})
	return db.loadErr
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Modified is when the database was last changed, from its index/db.json (as govulncheck reads it). It
// is zero for a directory of OSV files, which has no such index, and for a copy whose index carries no date.
func (db *VulnDB) Modified(ctx context.Context) (time.Time, error) {
	data, err := db.read(ctx, "index/db.json")
	if err != nil {
		if db.dir != "" && errors.Is(err, fs.ErrNotExist) {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("reading %s/index/db.json: %w", db.base, err)
	}
	var meta struct {
		Modified time.Time `json:"modified"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return time.Time{}, fmt.Errorf("reading %s/index/db.json: %w", db.base, err)
	}
	return meta.Modified, nil
}

// Advisories lists the advisories about a package of the ecosystem (go or npm).
func (db *VulnDB) Advisories(ctx context.Context, ecosystem Ecosystem, name string) ([]*OSV, error) {
	if err := db.load(ctx); err != nil {
		return nil, err
	}
	if db.byName != nil {
		return db.byName[ecosystemName(ecosystem)+"/"+name], nil
	}
	if ecosystem != "go" {
		return nil, nil // the Go database knows Go modules only
	}
	var out []*OSV
	for _, id := range db.index[name] {
		o, err := db.entry(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (db *VulnDB) entry(ctx context.Context, id string) (*OSV, error) {
	db.mu.Lock()
	o := db.entries[id]
	db.mu.Unlock()
	if o != nil {
		return o, nil
	}
	data, err := db.read(ctx, "ID/"+id+".json")
	if err != nil {
		return nil, fmt.Errorf("reading advisory %s: %w", id, err)
	}
	o = &OSV{}
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("reading advisory %s: %w", id, err)
	}
	db.mu.Lock()
	db.entries[id] = o
	db.mu.Unlock()
	return o, nil
}

// Vulnerability is an advisory that affects a dependency in use.
type Vulnerability struct {
	ID        string    `json:"id"`
	Aliases   []string  `json:"aliases"`
	Ecosystem Ecosystem `json:"ecosystem"`
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Severity  string    `json:"severity"` // low, moderate, high, critical or unknown
	Fixed     string    `json:"fixed"`    // the first version without it, "" when there is none
	Summary   string    `json:"summary"`
	URL       string    `json:"url,omitempty"`
	File      string    `json:"file"`
	Line      int       `json:"line"`
	// Ignored is the reason of the ignore rule that covers it: it is reported, and fails nothing.
	Ignored string `json:"ignored,omitempty"`
	// Reachable is how the project reaches it: called, imported or required (Go); "" when not known
	// (npm, or Go advisories matched on go.mod's lines).
	Reachable string `json:"reachable,omitempty"`
	// CallPath is, for a called one, a path of calls from the project's code to the vulnerable function.
	CallPath []string `json:"call_path,omitempty"`
}

// Vulnerabilities matches the dependencies against the database.
func Vulnerabilities(ctx context.Context, db *VulnDB, deps []Dependency) ([]Vulnerability, error) {
	var out []Vulnerability
	for _, d := range deps {
		advisories, err := db.Advisories(ctx, d.Ecosystem, d.Name)
		if err != nil {
			return nil, err
		}
		for _, o := range advisories {
			if o.Withdrawn != "" {
				continue // as govulncheck and osv-scanner skip them
			}
			affected, fixed := o.Affects(d.Ecosystem, d.Name, d.Current)
			if !affected {
				continue
			}
			if d.Ecosystem == Go && fixed != "" {
				fixed = "v" + strings.TrimPrefix(fixed, "v")
			}
			aliases := o.Aliases
			if aliases == nil {
				aliases = []string{}
			}
			out = append(out, Vulnerability{ID: o.ID, Aliases: aliases, Ecosystem: d.Ecosystem, Name: d.Name, Version: d.Current,
				Severity: o.severity(), Fixed: fixed, Summary: o.Summary, URL: o.DatabaseSpecific.URL, File: d.File, Line: d.Line})
		}
	}
	return out, nil
}
