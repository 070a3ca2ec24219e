package semver_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	mm "github.com/Masterminds/semver/v3"

	"github.com/shipyardci/shipyard/semver"
)

func ExampleParseCommitMessage() {
	c, ok := semver.ParseCommitMessage("feat(api)!: accept YAML\n\nBREAKING CHANGE: JSON bodies are rejected")
	fmt.Println(ok, c.Type, c.Scope, c.Description)
	fmt.Println(c.Level(), c.BreakingNotes)
	// Output:
	// true feat api accept YAML
	// major [JSON bodies are rejected]
}

func ExampleIncrement() {
	for _, b := range []semver.Bump{semver.BumpMinor, semver.BumpPrerelease, semver.BumpPremajor} {
		v, _ := semver.Increment(mm.MustParse("1.3.0-rc.1"), b, "rc", 1)
		fmt.Println(b, v)
	}
	// Output:
	// minor 1.3.0
	// prerelease 1.3.0-rc.2
	// premajor 2.0.0-rc.1
}

func ExampleCheck() {
	ok, reasons, _ := semver.Check("2.0.0", ">=1.2 <2")
	fmt.Println(ok, reasons)
	// Output:
	// false ["2.0.0" is greater than or equal to "2"]
}

func ExampleNext() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "--allow-empty", "-m", "feat: first"},
		{"tag", "v1.2.0"},
		{"-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "--allow-empty", "-m", "fix(api): nil body"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Println(err, string(out))
			return
		}
	}
	r, err := semver.Next(context.Background(), semver.WithDir(dir))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Version, r.Tag, r.Bump, "from", r.Previous.Name)
	// Output:
	// 1.2.1 v1.2.1 patch from v1.2.0
}
