package semver

import (
	"slices"
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
		{"merge branch", "Merge branch 'main' into next", false, Conventional{}},
		{"git revert", "Revert \"feat: x\"\n\nThis reverts commit 0123abc.", true, Conventional{Type: "revert", Description: "feat: x", Body: "This reverts commit 0123abc."}},
		{"squash-merged git revert", "Revert \"fix(deps): update dependency yargs to v17\" (#2534)\n\nThis reverts commit f419080.", true, Conventional{Type: "revert", Description: "fix(deps): update dependency yargs to v17", Body: "This reverts commit f419080."}},
		{"revert type", "revert: feat: drop the cache (#12)", true, Conventional{Type: "revert", Description: "feat: drop the cache (#12)"}},
		{"squash merge", "fix: handle the thing (#2416)", true, Conventional{Type: "fix", Description: "handle the thing (#2416)"}},
		{"squash merge breaking", "feat!: require node 18+ (#2069)", true, Conventional{Type: "feat", Description: "require node 18+ (#2069)", Breaking: true, BreakingNotes: []string{"require node 18+ (#2069)"}}},
		{"renovate", "fix(deps): update dependency @semantic-release/npm to v12 (#3411)", true, Conventional{Type: "fix", Scope: "deps", Description: "update dependency @semantic-release/npm to v12 (#3411)"}},
		{"dependabot", "build(deps-dev): bump eslint from 8.0.0 to 8.1.0 (#77)", true, Conventional{Type: "build", Scope: "deps-dev", Description: "bump eslint from 8.0.0 to 8.1.0 (#77)"}},
		{"parentheses in the description", "docs(readme): fix typo (closes #4)", true, Conventional{Type: "docs", Scope: "readme", Description: "fix typo (closes #4)"}},
		{"slash in the scope", "feat(api/v2): paging", true, Conventional{Type: "feat", Scope: "api/v2", Description: "paging"}},
		{"dot in the scope", "chore(go.mod): tidy", true, Conventional{Type: "chore", Scope: "go.mod", Description: "tidy"}},
		{"parentheses in the scope", "fix(deps(go)): bump x", true, Conventional{Type: "fix", Scope: "deps(go)", Description: "bump x"}},
		{"bang before the scope", "feat!(api): v2 only", true, Conventional{Type: "feat", Scope: "api", Description: "v2 only", Breaking: true, BreakingNotes: []string{"v2 only"}}},
		{"bang on both sides", "feat!(api)!: v2 only", false, Conventional{}},
		{"breaking note in a squash body", "feat: new store (#40)\n\n* feat: store records\n\nBREAKING CHANGE: the old store is gone\n\n* fix: typo", true, Conventional{
			Type: "feat", Description: "new store (#40)", Body: "* feat: store records",
			Footers:  []Footer{{"BREAKING CHANGE", "the old store is gone\n* fix: typo"}},
			Breaking: true, BreakingNotes: []string{"the old store is gone\n* fix: typo"},
		}},
		{"breaking line inside the body", "fix: x\n\n* fix: a\nBREAKING-CHANGE: b is gone\n\nmore", true, Conventional{
			Type: "fix", Description: "x", Body: "* fix: a\nBREAKING-CHANGE: b is gone\n\nmore", Breaking: true, BreakingNotes: []string{"b is gone"},
		}},
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
		{"revert: fix: a", Patch},
		{"Revert \"docs: a\"", Patch},
		{"fix: a (#12)", Patch},
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
	for _, s := range []string{"fix: x (#12)", "feat!(api): y", "revert: fix: z", "Revert \"feat: w\"", "fix: a\n\n* b\nBREAKING CHANGE: c"} {
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
		var rebuilt []string
		if c.Type == "revert" {
			rebuilt = append(rebuilt, `Revert "`+c.Description+`"`)
		}
		for _, bang := range []string{"", "!"} {
			scoped := c.Type + bang
			if c.Scope != "" {
				rebuilt = append(rebuilt, scoped+"("+c.Scope+"): "+c.Description, c.Type+"("+c.Scope+")"+bang+": "+c.Description)
			} else {
				rebuilt = append(rebuilt, scoped+": "+c.Description)
			}
		}
		if !slices.ContainsFunc(rebuilt, func(h string) bool { return strings.EqualFold(noSpace(h), noSpace(first)) }) {
			t.Fatalf("no header of %q rebuilds %q", rebuilt, first)
		}
		if strings.HasPrefix(noSpace(first), noSpace(c.Type+"!")) && c.Type != "revert" && !c.Breaking {
			t.Fatalf("%q has a bang and is not breaking", first)
		}
		if c.Breaking != (len(c.BreakingNotes) > 0) {
			t.Fatalf("breaking %v with notes %q", c.Breaking, c.BreakingNotes)
		}
	})
}

func noSpace(s string) string { return strings.Join(strings.Fields(s), "") }
