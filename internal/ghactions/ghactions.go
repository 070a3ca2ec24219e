// Package ghactions speaks to the GitHub Actions runner: step outputs, the step summary, annotations, log
// groups and secret masks. Outside Actions every call is a no-op, so commands call it unconditionally.
package ghactions

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Actions writes to the runner. Workflow commands go to w: the runner reads them from stderr as well as
// stdout, and stderr keeps a command's stdout (its result, or its JSON) clean.
type Actions struct {
	enabled     bool
	outputPath  string
	summaryPath string
	workspace   string

	mu sync.Mutex
	w  io.Writer
}

// New reads the runner's environment through getenv. Actions is enabled when GITHUB_ACTIONS is "true".
func New(getenv func(string) string, w io.Writer) *Actions {
	return &Actions{
		enabled:     getenv("GITHUB_ACTIONS") == "true",
		outputPath:  getenv("GITHUB_OUTPUT"),
		summaryPath: getenv("GITHUB_STEP_SUMMARY"),
		workspace:   getenv("GITHUB_WORKSPACE"),
		w:           w,
	}
}

// RepoPath makes a module-relative path relative to the repository (the GitHub workspace), as annotations
// need when the module is in a subdirectory.
func (a *Actions) RepoPath(moduleRoot, p string) string {
	if a == nil || moduleRoot == "" || filepath.IsAbs(p) || a.workspace == "" {
		return p
	}
	if rel, err := filepath.Rel(a.workspace, filepath.Join(moduleRoot, p)); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return p
}

// Enabled reports whether shipyard runs as a GitHub Actions step.
func (a *Actions) Enabled() bool { return a != nil && a.enabled }

// SetOutput sets the step output name. Values of several lines are written with a random heredoc delimiter.
func (a *Actions) SetOutput(name, value string) error {
	if !a.Enabled() || a.outputPath == "" {
		return nil
	}
	if name == "" || strings.ContainsAny(name, "\r\n=") || strings.Contains(name, "<<") {
		return fmt.Errorf("setting step output: invalid name %q", name)
	}
	var line string
	if strings.ContainsAny(value, "\r\n") {
		delim, err := delimiter(value)
		if err != nil {
			return fmt.Errorf("setting step output %s: %w", name, err)
		}
		line = name + "<<" + delim + "\n" + value + "\n" + delim + "\n"
	} else {
		line = name + "=" + value + "\n"
	}
	if err := appendFile(a.outputPath, line); err != nil {
		return fmt.Errorf("setting step output %s: %w", name, err)
	}
	return nil
}

// delimiter returns a heredoc delimiter that cannot occur in value.
func delimiter(value string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	d := "ghadelimiter_" + hex.EncodeToString(b[:])
	if strings.Contains(value, d) {
		return "", fmt.Errorf("value contains the delimiter %s", d)
	}
	return d, nil
}

// AddSummary appends markdown to the job's step summary.
func (a *Actions) AddSummary(markdown string) error {
	if !a.Enabled() || a.summaryPath == "" {
		return nil
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	if err := appendFile(a.summaryPath, markdown); err != nil {
		return fmt.Errorf("writing step summary: %w", err)
	}
	return nil
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Level is an annotation's severity.
type Level string

// The annotation levels the runner knows.
const (
	Error   Level = "error"
	Warning Level = "warning"
	Notice  Level = "notice"
)

// Annotation is a message the runner shows on a file and line of the pull request.
type Annotation struct {
	Level   Level
	File    string
	Line    int
	EndLine int
	Col     int
	Title   string
	Message string
}

// Annotate writes an ::error, ::warning or ::notice command.
func (a *Actions) Annotate(an Annotation) {
	if !a.Enabled() {
		return
	}
	level := an.Level
	if level == "" {
		level = Error
	}
	var props []string
	add := func(k, v string) {
		if v != "" {
			props = append(props, k+"="+escapeProperty(v))
		}
	}
	add("file", an.File)
	if an.Line > 0 {
		add("line", strconv.Itoa(an.Line))
	}
	if an.EndLine > 0 {
		add("endLine", strconv.Itoa(an.EndLine))
	}
	if an.Col > 0 {
		add("col", strconv.Itoa(an.Col))
	}
	add("title", an.Title)
	a.command(string(level), strings.Join(props, ","), an.Message)
}

// Group folds the log lines written until end is called under title.
func (a *Actions) Group(title string) (end func()) {
	if !a.Enabled() {
		return func() {}
	}
	a.command("group", "", title)
	return func() { a.command("endgroup", "", "") }
}

// Mask tells the runner to hide secret in every later log line. Each line of a multi-line secret is masked on
// its own, because the runner matches masks line by line.
func (a *Actions) Mask(secret string) {
	if !a.Enabled() || secret == "" {
		return
	}
	a.command("add-mask", "", secret)
	if strings.ContainsAny(secret, "\r\n") {
		for _, line := range strings.FieldsFunc(secret, func(r rune) bool { return r == '\r' || r == '\n' }) {
			a.command("add-mask", "", line)
		}
	}
}

func (a *Actions) command(name, props, data string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cmd := "::" + name
	if props != "" {
		cmd += " " + props
	}
	fmt.Fprintf(a.w, "%s::%s\n", cmd, escapeData(data))
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }
