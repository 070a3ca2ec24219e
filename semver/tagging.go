package semver

import (
	"context"
	"fmt"
	"strings"

	"github.com/shipyardci/shipyard/internal/gitx"
)

// DirtyError refuses to tag a working tree with uncommitted changes to tracked files.
type DirtyError struct{ Files []string }

func (e *DirtyError) Error() string {
	files := e.Files
	more := ""
	if len(files) > 5 {
		files, more = files[:5], fmt.Sprintf(" and %d more", len(e.Files)-5)
	}
	return fmt.Sprintf("the working tree has uncommitted changes (%s%s): commit or stash them before tagging",
		strings.Join(files, ", "), more)
}

// TagExistsError refuses to move or replace an existing tag.
type TagExistsError struct{ Tag, Commit string }

func (e *TagExistsError) Error() string {
	return fmt.Sprintf("tag %s already exists (on %s): a released version is never re-tagged; make a new commit to release a new version", e.Tag, short(e.Commit))
}

// TagOptions says how CreateTag tags.
type TagOptions struct {
	// Ref is the commit to tag (default HEAD).
	Ref string
	// Message is the annotation (default "Release NAME").
	Message string
	// Sign signs the tag with the user's configured GPG or SSH key (git tag -s).
	Sign bool
	// Remote, when set, is where the tag is pushed.
	Remote string
}

// CreateTag creates the annotated tag name in the working tree at dir. It refuses a working tree with
// uncommitted changes to tracked files and an existing tag.
func CreateTag(ctx context.Context, dir, name string, to TagOptions) error {
	repo, err := gitx.Open(ctx, dir)
	if err != nil {
		return err
	}
	if to.Ref == "" {
		to.Ref = "HEAD"
	}
	if to.Message == "" {
		to.Message = "Release " + name
	}
	files, err := uncommitted(ctx, repo)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		return &DirtyError{Files: files}
	}
	if commit, err := repo.Output(ctx, "rev-parse", "-q", "--verify", "refs/tags/"+name+"^{commit}"); err == nil {
		return &TagExistsError{Tag: name, Commit: commit}
	}
	args := []string{"tag", "--annotate", "--cleanup=verbatim", "--file=-", name, to.Ref}
	if to.Sign {
		args[1] = "--sign"
	}
	if _, err := repo.RunInput(ctx, strings.NewReader(to.Message), args...); err != nil {
		return fmt.Errorf("creating tag %s: %w", name, err)
	}
	if to.Remote != "" {
		if _, err := repo.Run(ctx, "push", "--quiet", to.Remote, "refs/tags/"+name); err != nil {
			return fmt.Errorf("pushing tag %s to %s (the tag stays local; push it with `git push %s %s`): %w", name, to.Remote, to.Remote, name, err)
		}
	}
	return nil
}

// TagRelease creates the annotated tag of a computed version, with the release's changelog as its
// message, when there is something to release (r.Changed); it reports whether it tagged.
func TagRelease(ctx context.Context, dir string, r *Result, to TagOptions) (bool, error) {
	if !r.Changed {
		return false, nil
	}
	to.Message = "Release " + r.Tag + "\n\n" + NewChangelog(r, false).Markdown()
	if err := CreateTag(ctx, dir, r.Tag, to); err != nil {
		return false, err
	}
	return true, nil
}
