package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/vuln/scan"
)

// ScanLevel is how deep the Go vulnerabilities are looked for, as govulncheck's -scan says: the modules
// required (module), the packages imported (package), or the functions called (symbol).
type ScanLevel string

// The scan levels.
const (
	ScanModule  ScanLevel = "module"
	ScanPackage ScanLevel = "package"
	ScanSymbol  ScanLevel = "symbol"
)

// ParseScanLevel reads a scan level.
func ParseScanLevel(s string) (ScanLevel, bool) {
	switch l := ScanLevel(s); l {
	case ScanModule, ScanPackage, ScanSymbol:
		return l, true
	}
	return "", false
}

// Reachability is how a vulnerable module is used: its vulnerable function called, its vulnerable
// package imported, or the module only required.
const (
	Called   = "called"
	Imported = "imported"
	Required = "required"
)

// goEnvKeys are the variables of the go command that Getenv may set for the scan.
var goEnvKeys = []string{"GOPROXY", "GOFLAGS", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOPRIVATE", "GONOPROXY",
	"GOINSECURE", "GOMODCACHE", "GOCACHE", "GOTOOLCHAIN", "GOWORK", "GOOS", "GOARCH", "HOME", "PATH"}

// goScanError is a govulncheck run that could not load the module: its message, for the fallback's note.
type goScanError struct{ msg string }

func (e *goScanError) Error() string { return e.msg }

// govulncheck runs govulncheck in this process (golang.org/x/vuln/scan) on the module in dir, against the
// database at dbURL, at level, and returns its findings: one per (module, advisory), with how the module
// is reached and, for a called one, a call path. It brings what matching go.mod's lines cannot: the whole
// build list with its replacements, the standard library of the Go in use, withdrawn advisories left out,
// and reachability.
func govulncheck(ctx context.Context, dir, dbURL string, level ScanLevel, getenv func(string) string) ([]Vulnerability, error) {
	args := []string{"-C", dir, "-db", dbURL, "-format", "json", "-scan", string(level)}
	if level != ScanModule {
		args = append(args, "./...") // a module scan reads the build list, not packages
	}
	return runGovulncheck(ctx, args, getenv)
}

// runGovulncheck runs govulncheck in this process with args (which ask for JSON) and reads its findings.
func runGovulncheck(ctx context.Context, args []string, getenv func(string) string) ([]Vulnerability, error) {
	var out, errOut bytes.Buffer
	cmd := scan.Command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(""), &out, &errOut
	cmd.Env = goEnv(getenv)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running govulncheck: %w", err)
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil && !isVulnsFound(err) {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, &goScanError{msg: msg}
	}
	return parseGovulncheck(&out)
}

// isVulnsFound is govulncheck's exit status 3: it ran, and found vulnerabilities.
func isVulnsFound(err error) bool {
	var coded interface{ ExitCode() int }
	return errors.As(err, &coded) && coded.ExitCode() == 3 || strings.Contains(err.Error(), "exit status 3")
}

// govulncheckMessage is one message of govulncheck's JSON stream.
type govulncheckMessage struct {
	OSV     *OSV `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
			Receiver string `json:"receiver"`
			Position *struct {
				Filename string `json:"filename"`
				Line     int    `json:"line"`
			} `json:"position"`
		} `json:"trace"`
	} `json:"finding"`
}

// parseGovulncheck reads govulncheck's JSON stream: the advisories it names, and its findings, merged
// into one vulnerability per (module, advisory) at the deepest reach found.
func parseGovulncheck(r io.Reader) ([]Vulnerability, error) {
	dec := json.NewDecoder(r)
	entries := map[string]*OSV{}
	type key struct{ id, module string }
	var order []key
	found := map[key]*Vulnerability{}
	for {
		var m govulncheckMessage
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading govulncheck's findings: %w", err)
		}
		if m.OSV != nil {
			entries[m.OSV.ID] = m.OSV
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.OSV == "" || f.Trace[0].Module == "" {
			continue
		}
		top := f.Trace[0]
		k := key{f.OSV, top.Module}
		v, ok := found[k]
		if !ok {
			v = &Vulnerability{ID: f.OSV, Aliases: []string{}, Ecosystem: Go, Name: top.Module, Version: top.Version, Fixed: f.FixedVersion, Reachable: Required}
			if top.Module == "stdlib" || top.Module == "toolchain" {
				v.Version = strings.TrimPrefix(top.Version, "go")
			}
			found[k], order = v, append(order, k)
		}
		reach := Required
		switch {
		case top.Function != "":
			reach = Called
		case top.Package != "":
			reach = Imported
		}
		if rank(reach) > rank(v.Reachable) {
			v.Reachable = reach
		}
		if reach == Called && v.CallPath == nil {
			for _, fr := range f.Trace {
				name := fr.Package + "." + fr.Function
				if fr.Receiver != "" {
					name = fr.Package + "." + strings.TrimPrefix(fr.Receiver, "*") + "." + fr.Function
				}
				if fr.Position != nil && fr.Position.Filename != "" {
					name += fmt.Sprintf(" (%s:%d)", fr.Position.Filename, fr.Position.Line)
				}
				v.CallPath = append(v.CallPath, name)
			}
			slices.Reverse(v.CallPath) // from the entry point to the vulnerable function
		}
	}
	out := []Vulnerability{}
	for _, k := range order {
		v := found[k]
		if o := entries[v.ID]; o != nil {
			v.Aliases, v.Summary, v.URL, v.Severity = nonNil(o.Aliases), o.Summary, o.DatabaseSpecific.URL, o.severity()
		} else {
			v.Severity = "unknown"
		}
		out = append(out, *v)
	}
	return out, nil
}

func rank(reach string) int { return slices.Index([]string{Required, Imported, Called}, reach) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
