package semver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// Changelog is the release notes of one version, grouped by commit type.
type Changelog struct {
	Version  string    `json:"version"`
	Previous string    `json:"previous,omitempty"`
	Date     time.Time `json:"date"`
	// Breaking lists the breaking changes, shown first.
	Breaking []Entry   `json:"breaking"`
	Sections []Section `json:"sections"`
}

// Section is the entries of one commit type.
type Section struct {
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Entries []Entry `json:"entries"`
}

// Entry is one commit, or one breaking-change note.
type Entry struct {
	Scope       string `json:"scope,omitempty"`
	Description string `json:"description"`
	Commit      string `json:"commit"`
}

// sectionOrder lists the commit types in changelog order with their titles; the first three, and reverts,
// are what users read, the rest show with all.
var sectionOrder = []struct {
	typ, title string
	shown      bool
}{
	{"feat", "Features", true},
	{"fix", "Bug Fixes", true},
	{"perf", "Performance Improvements", true},
	{"revert", "Reverts", true},
	{"docs", "Documentation", false},
	{"refactor", "Code Refactoring", false},
	{"style", "Styles", false},
	{"test", "Tests", false},
	{"build", "Build System", false},
	{"ci", "Continuous Integration", false},
	{"chore", "Chores", false},
}

// NewChangelog groups the commits of r by type. With all, every type is listed (unknown types last, under
// "Other Changes"); otherwise only features, fixes, performance improvements, reverts and breaking changes.
// The date is the newest commit's, so that the same history gives the same changelog.
func NewChangelog(r *Result, all bool) *Changelog {
	c := &Changelog{Version: r.Version.String(), Breaking: []Entry{}, Sections: []Section{}}
	if r.Previous != nil {
		c.Previous = r.Previous.Name
	}
	byType := map[string][]Entry{}
	for _, commit := range r.Commits {
		if c.Date.IsZero() || commit.Date.After(c.Date) {
			c.Date = commit.Date
		}
		cc := commit.Conventional
		if cc == nil {
			continue
		}
		hash := short(commit.Hash)
		for _, note := range cc.BreakingNotes {
			c.Breaking = append(c.Breaking, Entry{Scope: cc.Scope, Description: note, Commit: hash})
		}
		byType[cc.Type] = append(byType[cc.Type], Entry{Scope: cc.Scope, Description: cc.Description, Commit: hash})
	}
	known := map[string]bool{}
	for _, s := range sectionOrder {
		known[s.typ] = true
		if entries := byType[s.typ]; len(entries) > 0 && (s.shown || all) {
			c.Sections = append(c.Sections, Section{Type: s.typ, Title: s.title, Entries: entries})
		}
	}
	if all {
		var other []Entry
		for _, commit := range r.Commits {
			if cc := commit.Conventional; cc != nil && !known[cc.Type] {
				other = append(other, Entry{Scope: cc.Scope, Description: cc.Description, Commit: short(commit.Hash)})
			}
		}
		if len(other) > 0 {
			c.Sections = append(c.Sections, Section{Type: "other", Title: "Other Changes", Entries: other})
		}
	}
	return c
}

// Markdown renders the changelog as a "## VERSION (DATE)" section.
func (c *Changelog) Markdown() string {
	var b strings.Builder
	b.WriteString(c.heading())
	if len(c.Breaking) == 0 && len(c.Sections) == 0 {
		b.WriteString("\nNo notable changes.\n")
		return b.String()
	}
	if len(c.Breaking) > 0 {
		b.WriteString("\n### ⚠ BREAKING CHANGES\n\n")
		for _, e := range c.Breaking {
			writeEntry(&b, e, false)
		}
	}
	for _, s := range c.Sections {
		fmt.Fprintf(&b, "\n### %s\n\n", s.Title)
		for _, e := range s.Entries {
			writeEntry(&b, e, true)
		}
	}
	return b.String()
}

func (c *Changelog) heading() string {
	if c.Date.IsZero() {
		return "## " + c.Version + "\n"
	}
	return fmt.Sprintf("## %s (%s)\n", c.Version, c.Date.UTC().Format("2006-01-02"))
}

func writeEntry(b *strings.Builder, e Entry, withCommit bool) {
	b.WriteString("- ")
	if e.Scope != "" {
		fmt.Fprintf(b, "**%s:** ", e.Scope)
	}
	b.WriteString(strings.ReplaceAll(e.Description, "\n", "\n  "))
	if withCommit {
		fmt.Fprintf(b, " (%s)", e.Commit)
	}
	b.WriteString("\n")
}

// Prepend writes the changelog at the top of the markdown file at path, below its "# …" title when it has
// one, and creates the file when it does not exist. It returns false, changing nothing, when the file
// already has a section for this version. The file is replaced atomically.
func (c *Changelog) Prepend(path string) (written bool, err error) {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	for _, line := range strings.Split(string(old), "\n") {
		if line == "## "+c.Version || strings.HasPrefix(line, "## "+c.Version+" ") {
			return false, nil
		}
	}
	var title []byte
	rest := old
	if bytes.HasPrefix(old, []byte("# ")) {
		end := bytes.IndexByte(old, '\n')
		if end < 0 {
			end = len(old) - 1
		}
		title, rest = old[:end+1], bytes.TrimLeft(old[end+1:], "\n")
	} else if len(old) == 0 {
		title = []byte("# Changelog\n")
	}
	var out bytes.Buffer
	if len(title) > 0 {
		out.Write(title)
		out.WriteString("\n")
	}
	out.WriteString(c.Markdown())
	if len(rest) > 0 {
		out.WriteString("\n")
		out.Write(rest)
	}
	perm := os.FileMode(0o644)
	if info, err := os.Stat(path); err == nil {
		perm = info.Mode().Perm()
	}
	if err := renameio.WriteFile(path, out.Bytes(), perm); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	return true, nil
}
