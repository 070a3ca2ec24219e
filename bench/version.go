package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const (
	versionCommits = 20000
	versionTags    = 2000
)

// benchVersion times `shipyard version next` beside `git describe --tags` on a repository of 20,000
// commits and 2,000 tags: a tag every tenth commit, half of them annotated, with a few untagged commits
// after the last one.
func benchVersion(ctx context.Context, b *bench) error {
	dir := filepath.Join(b.scratch, "version-repo")
	start := time.Now()
	if err := generateHistory(ctx, dir, versionCommits, versionTags); err != nil {
		return fmt.Errorf("generating the repository: %w", err)
	}
	fmt.Printf("generated %d commits and %d tags in %s\n", versionCommits, versionTags, time.Since(start).Round(time.Millisecond))

	// fast-import leaves every tag a loose ref, as tagging one release at a time does; a clone (what a CI
	// runner has) gets packed refs with the annotated tags already peeled. Both are measured.
	for _, layout := range []string{"loose refs", "packed refs, as in a clone"} {
		if layout != "loose refs" {
			if out, err := exec.CommandContext(ctx, "git", "-C", dir, "pack-refs", "--all").CombinedOutput(); err != nil {
				return fmt.Errorf("git pack-refs: %v: %s", err, out)
			}
		}
		ours, err := b.timed(ctx, dir, b.shipyard, "version", "next")
		if err != nil {
			return err
		}
		peer, err := b.timed(ctx, dir, "git", "describe", "--tags")
		if err != nil {
			return err
		}
		b.report(fmt.Sprintf("version next: %d commits, %d tags, %s", versionCommits, versionTags, layout), ours, peer, "git describe --tags", time.Second, 0)
	}
	return nil
}

// generateHistory writes the repository with one git fast-import stream.
func generateHistory(ctx context.Context, dir string, commits, tags int) error {
	if out, err := exec.CommandContext(ctx, "git", "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v: %s", err, out)
	}
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriter(stdin)
	every := commits / tags
	kinds := []string{"fix(core): handle case", "feat(api): add endpoint", "chore: update deps", "docs: explain", "perf: faster path"}
	epoch := int64(1767225600) // 2026-01-01
	tagged := 0
	for i := 1; i <= commits; i++ {
		msg := fmt.Sprintf("%s %d\n", kinds[i%len(kinds)], i)
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\ndata %d\n%s", i, epoch+int64(i)*60, len(msg), msg)
		fmt.Fprintf(w, "M 644 inline file%d.txt\ndata %d\n%d\n\n", i%100, len(fmt.Sprint(i))+1, i)
		if i%every == 0 && tagged < tags && i < commits-3 {
			tagged++
			name := fmt.Sprintf("v1.%d.%d", tagged/10, tagged%10)
			if tagged%2 == 0 {
				note := "Release " + name + "\n"
				fmt.Fprintf(w, "tag %s\nfrom :%d\ntagger Bench <bench@example.com> %d +0000\ndata %d\n%s\n", name, i, epoch+int64(i)*60, len(note), note)
			} else {
				fmt.Fprintf(w, "reset refs/tags/%s\nfrom :%d\n\n", name, i)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := stdin.Close(); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w", err)
	}
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "checkout", "-q", "main").CombinedOutput()
	if err != nil {
		return fmt.Errorf("git checkout: %v: %s", err, out)
	}
	return nil
}
