// Package gittest builds real git repositories for tests, with fixed identities and dates so that runs are
// repeatable and independent of the machine's git configuration.
package gittest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/gitx"
)

// Epoch is the date of the first commit of every test repository; each commit is one minute later.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Repo is a test repository in a temporary directory.
type Repo struct {
	t    testing.TB
	git  *gitx.Repo
	Dir  string
	tick int
}

// Env isolates git from the machine: no global or system configuration, a fixed identity.
func Env() []string {
	return []string{
		"GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Ada Lovelace", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada Lovelace", "GIT_COMMITTER_EMAIL=ada@example.com",
	}
}

// New initialises a repository on branch main in a temporary directory.
func New(t testing.TB) *Repo {
	t.Helper()
	return At(t, t.TempDir())
}

// At initialises a repository on branch main in dir, which may hold files already.
func At(t testing.TB, dir string) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: dir, git: &gitx.Repo{Dir: dir, Env: Env()}}
	r.Git("init", "-q", "-b", "main")
	// Code under test runs git without Env: the identity must also live in the repository's configuration.
	r.Git("config", "user.name", "Ada Lovelace")
	r.Git("config", "user.email", "ada@example.com")
	r.Git("config", "tag.gpgSign", "false")
	r.Git("config", "commit.gpgSign", "false")
	return r
}

// Open is the existing repository in dir (a clone), to run git in.
func Open(t testing.TB, dir string) *Repo {
	return &Repo{t: t, Dir: dir, git: &gitx.Repo{Dir: dir, Env: Env()}}
}

// Git runs git in the repository and returns its trimmed output; a failure fails the test.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	date := Epoch.Add(time.Duration(r.tick) * time.Minute).Format(time.RFC3339)
	r.git.Env = append(Env(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := r.git.Output(context.Background(), args...)
	if err != nil {
		r.t.Fatalf("%v", err)
	}
	return out
}

// Commit makes an empty commit with msg and returns its hash.
func (r *Repo) Commit(msg string) string {
	r.t.Helper()
	r.tick++
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}

// WriteFile writes a file of the working tree, creating its directory.
func (r *Repo) WriteFile(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// CommitFile writes path and commits it with msg.
func (r *Repo) CommitFile(path, content, msg string) string {
	r.t.Helper()
	r.WriteFile(path, content)
	r.Git("add", path)
	return r.Commit(msg)
}

// Script runs a history written one step a line:
//
//	c MESSAGE        empty commit (\n in MESSAGE is a newline)
//	f PATH MESSAGE   commit a change to PATH
//	t NAME           lightweight tag
//	a NAME           annotated tag
//	b NAME           create and switch to branch NAME
//	o NAME           switch to branch NAME
//	m NAME [MESSAGE] merge NAME with a merge commit (default message: Merge branch 'NAME')
func (r *Repo) Script(lines ...string) {
	r.t.Helper()
	for _, line := range lines {
		op, arg, _ := strings.Cut(line, " ")
		switch op {
		case "c":
			r.Commit(strings.ReplaceAll(arg, `\n`, "\n"))
		case "f":
			path, msg, _ := strings.Cut(arg, " ")
			r.CommitFile(path, fmt.Sprintf("%s %d\n", path, r.tick), msg)
		case "t":
			r.Git("tag", arg)
		case "a":
			r.Git("tag", "-a", arg, "-m", "Release "+arg)
		case "b":
			r.Git("checkout", "-q", "-b", arg)
		case "o":
			r.Git("checkout", "-q", arg)
		case "m":
			r.tick++
			branch, msg, ok := strings.Cut(arg, " ")
			if !ok {
				msg = "Merge branch '" + branch + "'"
			}
			r.Git("merge", "-q", "--no-ff", "-m", msg, branch)
		default:
			r.t.Fatalf("gittest: unknown step %q", line)
		}
	}
}
