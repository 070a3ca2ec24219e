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
	// headerRe is type, an optional "!" before or after the scope, the scope in parentheses (anything but
	// a line break, parentheses included: "deps(go.mod)"), a colon, spaces and the description.
	headerRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_-]*)(!)?(?:\(([^\r\n]*?)\))?(!)?: +(\S.*)$`)
	// gitRevertRe is the subject git revert writes, Revert "the reverted subject", with the " (#123)" of
	// a squash merge or not.
	gitRevertRe = regexp.MustCompile(`^Revert "(.+)"(?: \(#[0-9]+\))?$`)
	footerRe    = regexp.MustCompile(`^(BREAKING CHANGE|BREAKING-CHANGE|[A-Za-z][A-Za-z0-9-]*)(?:: | #)(.*)$`)
	// breakingRe is a breaking-change note on any line of the body: squash merges gather the messages of
	// a branch's commits, each with its own footers, into the body.
	breakingRe = regexp.MustCompile(`^(?:[*-] +)?(BREAKING CHANGE|BREAKING-CHANGE): *(\S.*)$`)
)

// ParseCommitMessage parses msg as a Conventional Commit (conventionalcommits.org 1.0.0), as real
// histories write them: "type(scope)!: description" with any description (a squash merge's "(#123)"
// included), any scope but an empty one ("api/v2", "ui-kit", "go.mod"), and "!" after the type or after
// the scope. A breaking change is marked by "!" or by a BREAKING CHANGE (or BREAKING-CHANGE) footer, or
// such a line anywhere in the body. git revert's `Revert "…"` is a commit of type revert whose
// description is the reverted subject. ok is false for anything else (merge subjects, fixup!).
func ParseCommitMessage(msg string) (c Conventional, ok bool) {
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	header, rest, _ := strings.Cut(strings.TrimLeft(msg, "\n"), "\n")
	header = strings.TrimSpace(header)
	if m := gitRevertRe.FindStringSubmatch(header); m != nil {
		c = Conventional{Type: "revert", Description: m[1]}
	} else {
		m := headerRe.FindStringSubmatchIndex(header)
		if m == nil || m[6] >= 0 && strings.TrimSpace(header[m[6]:m[7]]) == "" || m[4] >= 0 && m[8] >= 0 {
			return Conventional{}, false // no header, an empty scope, or "!" on both sides of the scope
		}
		c = Conventional{Type: strings.ToLower(header[m[2]:m[3]]), Description: strings.TrimSpace(header[m[10]:m[11]]),
			Breaking: m[4] >= 0 || m[8] >= 0}
		if m[6] >= 0 {
			c.Scope = strings.TrimSpace(header[m[6]:m[7]])
		}
	}
	c.Body, c.Footers = splitFooters(rest)
	for _, f := range c.Footers {
		if f.Token == "BREAKING CHANGE" || f.Token == "BREAKING-CHANGE" {
			c.Breaking = true
			c.BreakingNotes = append(c.BreakingNotes, f.Value)
		}
	}
	for _, line := range strings.Split(c.Body, "\n") {
		if m := breakingRe.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			c.Breaking = true
			c.BreakingNotes = append(c.BreakingNotes, strings.TrimSpace(m[2]))
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

// Level is the bump this commit asks for, as semantic-release's default release rules have it: major for
// a breaking change, minor for feat, patch for fix, perf and a revert.
func (c Conventional) Level() Level {
	switch {
	case c.Breaking:
		return Major
	case c.Type == "feat":
		return Minor
	case c.Type == "fix" || c.Type == "perf" || c.Type == "revert":
		return Patch
	}
	return None
}

// analyse returns the highest level the commits ask for. A merge commit asks for nothing: the commits it
// brings in are read on their own, and its subject ("Merge pull request #12 from …") is no release reason.
func analyse(commits []Commit) Level {
	level := None
	for _, c := range commits {
		if c.Conventional != nil && !c.IsMerge() {
			level = max(level, c.Conventional.Level())
		}
	}
	return level
}
