package semver

import (
	"regexp"
	"strings"
	"time"
)

// Commit is one commit of the history being released.
type Commit struct {
	Hash    string
	Parents []string
	Author  string
	Date    time.Time
	Message string
	// Conventional is the parsed message, nil when the message does not follow Conventional Commits.
	Conventional *Conventional
}

// IsMerge reports whether the commit has more than one parent.
func (c Commit) IsMerge() bool { return len(c.Parents) > 1 }

// Subject is the first line of the message.
func (c Commit) Subject() string {
	s, _, _ := strings.Cut(c.Message, "\n")
	return strings.TrimSpace(s)
}

// Conventional is a commit message in the Conventional Commits 1.0.0 form:
//
//	type(scope)!: description
//
//	body
//
//	BREAKING CHANGE: what breaks
//	Refs: #123
type Conventional struct {
	Type        string // lower case: feat, fix, perf, …
	Scope       string
	Description string
	Body        string
	Footers     []Footer
	// Breaking is set by a "!" before the colon or by a BREAKING CHANGE footer.
	Breaking bool
	// BreakingNotes are the texts of the BREAKING CHANGE footers, or the description when "!" alone marks it.
	BreakingNotes []string
}

// Footer is a git-trailer-like line at the end of the message ("Refs: #123", "Reviewed-by: Z").
type Footer struct {
	Token string
	Value string
}

var (
	headerRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)(?:\(([^()\r\n]*)\))?(!)?: +(\S.*)$`)
	footerRe = regexp.MustCompile(`^(BREAKING CHANGE|BREAKING-CHANGE|[A-Za-z][A-Za-z0-9-]*)(?:: | #)(.*)$`)
)

// ParseCommitMessage parses msg as a Conventional Commit. ok is false when its first line is not
// "type(scope)!: description" with a non-empty type, scope (when present) and description.
func ParseCommitMessage(msg string) (c Conventional, ok bool) {
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	header, rest, _ := strings.Cut(strings.TrimLeft(msg, "\n"), "\n")
	m := headerRe.FindStringSubmatch(strings.TrimSpace(header))
	if m == nil || (strings.Contains(header, "(") && strings.TrimSpace(m[2]) == "") {
		return Conventional{}, false
	}
	c = Conventional{
		Type:        strings.ToLower(m[1]),
		Scope:       strings.TrimSpace(m[2]),
		Description: strings.TrimSpace(m[4]),
		Breaking:    m[3] == "!",
	}
	c.Body, c.Footers = splitFooters(rest)
	for _, f := range c.Footers {
		if f.Token == "BREAKING CHANGE" || f.Token == "BREAKING-CHANGE" {
			c.Breaking = true
			c.BreakingNotes = append(c.BreakingNotes, f.Value)
		}
	}
	if c.Breaking && len(c.BreakingNotes) == 0 {
		c.BreakingNotes = []string{c.Description}
	}
	return c, true
}

// splitFooters separates the body from the footers: the footers start at the first paragraph whose first
// line is a footer, and a footer's value runs on over the lines that do not start another footer.
func splitFooters(rest string) (body string, footers []Footer) {
	paragraphs := strings.Split(strings.Trim(rest, "\n"), "\n\n")
	start := len(paragraphs)
	for i, p := range paragraphs {
		first, _, _ := strings.Cut(strings.TrimLeft(p, "\n"), "\n")
		if footerRe.MatchString(first) {
			start = i
			break
		}
	}
	body = strings.TrimSpace(strings.Join(paragraphs[:start], "\n\n"))
	for _, line := range strings.Split(strings.Join(paragraphs[start:], "\n\n"), "\n") {
		if m := footerRe.FindStringSubmatch(line); m != nil {
			footers = append(footers, Footer{Token: m[1], Value: strings.TrimSpace(m[2])})
			continue
		}
		if n := len(footers); n > 0 {
			footers[n-1].Value = strings.TrimSpace(footers[n-1].Value + "\n" + strings.TrimSpace(line))
		}
	}
	return body, footers
}

// Level is how far a change moves the version.
type Level int

// Bump levels, in increasing order.
const (
	None Level = iota
	Patch
	Minor
	Major
)

func (l Level) String() string {
	return [...]string{"none", "patch", "minor", "major"}[l]
}

// Level is the bump this commit asks for: major for a breaking change, minor for feat, patch for fix and perf.
func (c Conventional) Level() Level {
	switch {
	case c.Breaking:
		return Major
	case c.Type == "feat":
		return Minor
	case c.Type == "fix" || c.Type == "perf":
		return Patch
	}
	return None
}

// analyse returns the highest level the commits ask for.
func analyse(commits []Commit) Level {
	level := None
	for _, c := range commits {
		if c.Conventional != nil {
			level = max(level, c.Conventional.Level())
		}
	}
	return level
}
