package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/mod/modfile"
)

// The live sources of the runtimes' release data.
const (
	GoReleasesURL   = "https://go.dev/dl/?mode=json&include=all"
	NodeScheduleURL = "https://raw.githubusercontent.com/nodejs/Release/main/schedule.json"
)

// Runtime is a runtime the project runs on, against its support window: Go by its two supported major
// releases, Node.js by its release schedule.
type Runtime struct {
	Name    string `json:"name"`    // go or node
	Version string `json:"version"` // as the project names it: 1.22, 1.22.3, >=20
	Source  string `json:"source"`  // go.mod's go or toolchain line, engines.node, .nvmrc, .node-version
	Release string `json:"release"` // the release line: 1.22, 20
	// Status is supported or end-of-life (Go); current, active-lts, maintenance-lts, maintenance or
	// end-of-life (Node.js).
	Status string `json:"status"`
	EOL    string `json:"eol,omitempty"` // the end-of-life date, when the schedule says (Node.js)
	// MoveTo is the release to move to: the newest Go, or the newest patch of the line in use; the
	// active LTS of Node.js. "" when nothing needs to move.
	MoveTo string `json:"move_to,omitempty"`
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
}

// EndOfLife says whether the runtime's release is no longer supported.
func (r Runtime) EndOfLife() bool { return r.Status == "end-of-life" }

// runtimeData is the release data of both runtimes.
type runtimeData struct {
	goReleases []string // stable versions, go1.27.4
	node       map[string]nodeRelease
}

type nodeRelease struct {
	Start, LTS, Maintenance, End, Codename string
}

// readRuntimeData reads go.json and node.json from the directory of db (file://DIR or DIR), or the live
// sources when db is "".
func readRuntimeData(ctx context.Context, db string, client *http.Client) (*runtimeData, error) {
	goSrc, nodeSrc := GoReleasesURL, NodeScheduleURL
	if db != "" {
		dir := strings.TrimPrefix(db, "file://")
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, &InputError{Option: "audit.RuntimeDB", Msg: fmt.Sprintf("%s is not a directory of go.json and node.json", db)}
		}
		goSrc, nodeSrc = filepath.Join(dir, "go.json"), filepath.Join(dir, "node.json")
	}
	var releases []struct {
		Version string `json:"version"`
		Stable  bool   `json:"stable"`
	}
	if err := readJSON(ctx, client, goSrc, &releases); err != nil {
		return nil, err
	}
	var schedule map[string]struct {
		Start       string `json:"start"`
		LTS         string `json:"lts"`
		Maintenance string `json:"maintenance"`
		End         string `json:"end"`
		Codename    string `json:"codename"`
	}
	if err := readJSON(ctx, client, nodeSrc, &schedule); err != nil {
		return nil, err
	}
	d := &runtimeData{node: map[string]nodeRelease{}}
	for _, r := range releases {
		if r.Stable {
			d.goReleases = append(d.goReleases, r.Version)
		}
	}
	for k, v := range schedule {
		d.node[strings.TrimPrefix(k, "v")] = nodeRelease{Start: v.Start, LTS: v.LTS, Maintenance: v.Maintenance, End: v.End, Codename: v.Codename}
	}
	return d, nil
}

// readJSON decodes the file or HTTPS resource at src into v.
func readJSON(ctx context.Context, client *http.Client, src string, v any) error {
	var data []byte
	var err error
	if strings.HasPrefix(src, "https://") {
		var req *http.Request
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, src, nil); err != nil {
			return err
		}
		var resp *http.Response
		if resp, err = client.Do(req); err != nil {
			return fmt.Errorf("reading %s: %w", src, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("reading %s: %s", src, resp.Status)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	} else {
		data, err = os.ReadFile(src)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &InputError{File: src, Msg: "not release data: " + err.Error()}
	}
	return nil
}

// goLine is a Go version's release line: 1.22 of go1.22.3, 1.22, 1.22rc1.
var goLine = regexp.MustCompile(`^(?:go)?(1\.[0-9]+)`)

// goRuntimes places the go and toolchain lines of the go.mod in dir in Go's support window: the two
// newest major releases are supported.
func (d *runtimeData) goRuntimes(dir string) ([]Runtime, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, nil
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, &InputError{File: "go.mod", Msg: err.Error()}
	}
	var lines []string // newest first
	for _, v := range d.goReleases {
		if m := goLine.FindStringSubmatch(v); m != nil && !slices.Contains(lines, m[1]) {
			lines = append(lines, m[1])
		}
	}
	slices.SortFunc(lines, func(a, b string) int { return minorOf(b) - minorOf(a) })
	var out []Runtime
	add := func(version, source string, line int) {
		m := goLine.FindStringSubmatch(version)
		if m == nil || len(lines) == 0 {
			return
		}
		r := Runtime{Name: "go", Version: version, Source: source, Release: m[1], Status: "supported", File: "go.mod", Line: line}
		newest := d.newestPatch(lines[0])
		switch {
		case len(lines) > 1 && minorOf(m[1]) < minorOf(lines[1]):
			r.Status, r.MoveTo = "end-of-life", newest
		case source == "toolchain":
			if p := d.newestPatch(m[1]); p != "" && p != version {
				r.MoveTo = p // the line's newest patch has its security fixes
			}
		}
		out = append(out, r)
	}
	if f.Go != nil {
		add(f.Go.Version, "go", f.Go.Syntax.Start.Line)
	}
	if f.Toolchain != nil {
		add(f.Toolchain.Name, "toolchain", f.Toolchain.Syntax.Start.Line)
	}
	return out, nil
}

// newestPatch is the newest stable release of a Go line (go1.26.11 of 1.26).
func (d *runtimeData) newestPatch(line string) string {
	for _, v := range d.goReleases { // newest first, as go.dev lists them
		if m := goLine.FindStringSubmatch(v); m != nil && m[1] == line && (v == "go"+line || strings.HasPrefix(v, "go"+line+".")) {
			return v
		}
	}
	return ""
}

func minorOf(line string) int {
	_, minor, _ := strings.Cut(line, ".")
	n, _ := strconv.Atoi(minor)
	return n
}

// nodeRuntimes places the Node.js the project names (engines.node, .nvmrc, .node-version) in the
// release schedule on now.
func (d *runtimeData) nodeRuntimes(dir string, now time.Time) []Runtime {
	var out []Runtime
	if data, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil {
		var p struct {
			Engines struct {
				Node string `json:"node"`
			} `json:"engines"`
		}
		if json.Unmarshal(data, &p) == nil && p.Engines.Node != "" {
			out = append(out, d.nodeRuntime(p.Engines.Node, "engines.node", "package.json", keyLine(data, "engines", "node"), now))
		}
	}
	for _, name := range []string{".nvmrc", ".node-version"} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			if v := strings.TrimSpace(string(data)); v != "" {
				out = append(out, d.nodeRuntime(v, name, name, 1, now))
			}
		}
	}
	return out
}

// nodeRuntime is one Node.js version the project names: the lowest major it allows, placed in the
// schedule.
func (d *runtimeData) nodeRuntime(version, source, file string, line int, now time.Time) Runtime {
	r := Runtime{Name: "node", Version: version, Source: source, File: file, Line: line, Status: "unknown"}
	major := lowestMajor(version)
	if codename, ok := strings.CutPrefix(strings.ToLower(version), "lts/"); ok { // .nvmrc's lts/iron
		for m, rel := range d.node {
			if rel.Codename != "" && strings.EqualFold(rel.Codename, codename) {
				major = m
			}
		}
	}
	rel, ok := d.node[major]
	if major == "" || !ok {
		return r
	}
	today := now.UTC().Format(time.DateOnly)
	r.Release, r.EOL = major, rel.End
	switch {
	case rel.End != "" && today >= rel.End:
		r.Status = "end-of-life"
	case rel.Maintenance != "" && today >= rel.Maintenance && rel.LTS != "":
		r.Status = "maintenance-lts"
	case rel.Maintenance != "" && today >= rel.Maintenance:
		r.Status = "maintenance"
	case rel.LTS != "" && today >= rel.LTS:
		r.Status = "active-lts"
	default:
		r.Status = "current"
	}
	if r.Status != "active-lts" {
		for m, other := range d.node {
			if other.LTS != "" && today >= other.LTS && (other.Maintenance == "" || today < other.Maintenance) && m != major {
				r.MoveTo = m
			}
		}
	}
	return r
}

// lowestMajor is the lowest major version a Node.js version or range allows: 20 of 20, v20.11.1,
// >=20.10, ^20.1.0 or 20.x; "" when it cannot tell.
func lowestMajor(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if exact, err := semver.StrictNewVersion(v); err == nil {
		return strconv.FormatUint(exact.Major(), 10)
	}
	if c, err := semver.NewConstraint(v); err == nil {
		for major := 0; major < 100; major++ {
			for _, probe := range []string{"%d.0.0", "%d.999.999"} {
				if c.Check(semver.MustParse(fmt.Sprintf(probe, major))) {
					return strconv.Itoa(major)
				}
			}
		}
	}
	return ""
}

// runtimes places the project's runtimes in their support windows, from o.RuntimeDB (the live sources
// when ""); note says why they were not checked ("" when they were).
func runtimes(ctx context.Context, o Options) (rs []Runtime, note string, err error) {
	if o.RuntimeDB == VulnDBOff {
		return []Runtime{}, "runtimes: not checked (the runtime database is off)", nil
	}
	d, err := readRuntimeData(ctx, o.RuntimeDB, o.Client)
	var in *InputError
	if errors.As(err, &in) {
		return nil, "", err
	}
	if err != nil {
		return []Runtime{}, "runtimes: not checked: " + err.Error(), nil
	}
	goRuntimes, err := d.goRuntimes(o.Dir)
	if err != nil {
		return nil, "", err
	}
	return append(goRuntimes, d.nodeRuntimes(o.Dir, o.Now)...), "", nil
}
