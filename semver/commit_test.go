package semver

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseCommitMessage(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		ok   bool
		want Conventional
	}{
		{"feat", "feat: add login", true, Conventional{Type: "feat", Description: "add login"}},
		{"scope", "fix(api): handle nil body\n", true, Conventional{Type: "fix", Scope: "api", Description: "handle nil body"}},
		{"upper-case type", "Feat(UI): Dark mode", true, Conventional{Type: "feat", Scope: "UI", Description: "Dark mode"}},
		{"bang", "refactor!: drop Go 1.20", true, Conventional{Type: "refactor", Description: "drop Go 1.20", Breaking: true, BreakingNotes: []string{"drop Go 1.20"}}},
		{"bang with scope", "feat(db)!: new schema", true, Conventional{Type: "feat", Scope: "db", Description: "new schema", Breaking: true, BreakingNotes: []string{"new schema"}}},
		{"body and breaking footer", "feat: new config\n\nThe config moves to YAML.\n\nBREAKING CHANGE: config.json is no longer read\nRefs: #12", true, Conventional{
			Type: "feat", Description: "new config", Body: "The config moves to YAML.",
			Footers:  []Footer{{"BREAKING CHANGE", "config.json is no longer read"}, {"Refs", "#12"}},
			Breaking: true, BreakingNotes: []string{"config.json is no longer read"},
		}},
		{"breaking-change with hyphen and continuation", "fix: x\n\nBREAKING-CHANGE: first line\n  second line\nCloses #7", true, Conventional{
			Type: "fix", Description: "x",
			Footers:  []Footer{{"BREAKING-CHANGE", "first line\nsecond line"}, {"Closes", "7"}},
			Breaking: true, BreakingNotes: []string{"first line\nsecond line"},
		}},
		{"lower-case breaking change is not a note", "fix: x\n\nbreaking change: no", true, Conventional{Type: "fix", Description: "x", Body: "breaking change: no"}},
		{"multi-paragraph body", "docs: guide\n\npara one\n\npara two\n\nSigned-off-by: A <a@b.c>", true, Conventional{
			Type: "docs", Description: "guide", Body: "para one\n\npara two", Footers: []Footer{{"Signed-off-by", "A <a@b.c>"}},
		}},
		{"CRLF", "fix: crlf\r\n\r\nBREAKING CHANGE: yes\r\n", true, Conventional{
			Type: "fix", Description: "crlf", Footers: []Footer{{"BREAKING CHANGE", "yes"}}, Breaking: true, BreakingNotes: []string{"yes"},
		}},
		{"no space after colon", "feat:add", false, Conventional{}},
		{"empty description", "feat: ", false, Conventional{}},
		{"empty scope", "feat(): x", false, Conventional{}},
		{"merge commit", "Merge pull request #3 from a/b", false, Conventional{}},
		{"git revert", "Revert \"feat: x\"", false, Conventional{}},
		{"fixup", "fixup! feat: x", false, Conventional{}},
		{"empty", "", false, Conventional{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseCommitMessage(tt.msg)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		msg  string
		want Level
	}{
		{"feat: a", Minor},
		{"fix: a", Patch},
		{"perf: a", Patch},
		{"docs: a", None},
		{"chore!: drop support", Major},
		{"fix: a\n\nBREAKING CHANGE: b", Major},
	}
	for _, tt := range tests {
		c, ok := ParseCommitMessage(tt.msg)
		assert.True(t, ok)
		assert.Equal(t, tt.want, c.Level(), tt.msg)
	}
}

func FuzzParseCommitMessage(f *testing.F) {
	for _, s := range []string{"feat: a", "fix(x)!: y\n\nbody\n\nBREAKING CHANGE: z", "Merge branch 'a'", "a(b): c\r\n\r\nRefs #1", "x(: y", "feat(a)(b): c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		c, ok := ParseCommitMessage(msg)
		if !ok {
			assert.Equal(t, Conventional{}, c)
			return
		}
		if c.Type == "" || c.Description == "" {
			t.Fatalf("accepted %q with an empty type or description: %+v", msg, c)
		}
		if c.Type != strings.ToLower(c.Type) {
			t.Fatalf("type %q is not lower case", c.Type)
		}
		// The header is rebuilt from its parts, up to the case of the type and white space.
		first, _, _ := strings.Cut(strings.TrimLeft(strings.ReplaceAll(msg, "\r\n", "\n"), "\n"), "\n")
		header := c.Type
		if c.Scope != "" {
			header += "(" + c.Scope + ")"
		}
		if strings.Contains(first, "!:") && c.Breaking {
			header += "!"
		}
		header += ": " + c.Description
		if !strings.EqualFold(noSpace(header), noSpace(first)) {
			t.Fatalf("header %q does not rebuild %q", header, first)
		}
		if c.Breaking != (len(c.BreakingNotes) > 0) {
			t.Fatalf("breaking %v with notes %q", c.Breaking, c.BreakingNotes)
		}
	})
}

func noSpace(s string) string { return strings.Join(strings.Fields(s), "") }
