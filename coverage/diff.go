package coverage

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/shipyardci/shipyard/internal/gitx"
)

// ChangedLines returns, by absolute path, the lines of Go files added or modified since the merge base of
// base and HEAD, uncommitted changes included: what a pull request against base changes.
func ChangedLines(ctx context.Context, dir, base string) (map[string][]int, error) {
	repo, err := gitx.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	mergeBase, err := repo.Output(ctx, "merge-base", base, "HEAD")
	if err != nil {
		return nil, fmt.Errorf("finding where HEAD left %s: %w", base, err)
	}
	// The prefixes are set so that a user's diff.noprefix or diff.mnemonicPrefix cannot change the output.
	out, err := repo.Run(ctx, "diff", "--unified=0", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", mergeBase, "--", "*.go")
	if err != nil {
		return nil, fmt.Errorf("reading the changes since %s: %w", base, err)
	}
	return parseDiff(out, repo.Dir)
}

// parseDiff reads the added line ranges of a unified diff with no context lines.
func parseDiff(diff []byte, root string) (map[string][]int, error) {
	changed := map[string][]int{}
	var file string
	sc := bufio.NewScanner(bytes.NewReader(diff))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "+++ "):
			name := strings.TrimPrefix(line, "+++ ")
			if strings.HasPrefix(name, `"`) {
				unq, err := strconv.Unquote(name)
				if err != nil {
					return nil, fmt.Errorf("reading the diff: file name %s: %w", name, err)
				}
				name = unq
			}
			file = ""
			if rest, ok := strings.CutPrefix(name, "b/"); ok { // "/dev/null" for a deleted file
				file = filepath.Join(root, filepath.FromSlash(rest))
			}
		case strings.HasPrefix(line, "@@ ") && file != "":
			start, count, err := addedRange(line)
			if err != nil {
				return nil, fmt.Errorf("reading the diff of %s: %w", file, err)
			}
			for l := start; l < start+count; l++ {
				changed[file] = append(changed[file], l)
			}
		}
	}
	return changed, sc.Err()
}

// addedRange parses the "+start,count" of a hunk header "@@ -a,b +c,d @@".
func addedRange(header string) (start, count int, err error) {
	fields := strings.Fields(header)
	if len(fields) < 3 || !strings.HasPrefix(fields[2], "+") {
		return 0, 0, fmt.Errorf("bad hunk header %q", header)
	}
	s, c, hasCount := strings.Cut(fields[2][1:], ",")
	if start, err = strconv.Atoi(s); err != nil {
		return 0, 0, fmt.Errorf("bad hunk header %q", header)
	}
	count = 1
	if hasCount {
		if count, err = strconv.Atoi(c); err != nil {
			return 0, 0, fmt.Errorf("bad hunk header %q", header)
		}
	}
	return start, count, nil
}

// LineCounts is covered lines out of those that hold statements.
type LineCounts struct {
	Lines   int `json:"lines"`
	Covered int `json:"covered"`
}

// Percent is the covered share, 100 when no line holds a statement.
func (c LineCounts) Percent() float64 {
	if c.Lines == 0 {
		return 100
	}
	return 100 * float64(c.Covered) / float64(c.Lines)
}

// DiffFile is the coverage of the changed lines of one file.
type DiffFile struct {
	Path string `json:"path"`
	LineCounts
	// Uncovered lists the changed lines whose statements never ran.
	Uncovered []int `json:"uncovered"`
}

// DiffCoverage is the coverage of the changed lines: those holding statements, covered when a block over
// them ran. Excluded, generated and ignored code does not count.
type DiffCoverage struct {
	LineCounts
	Files []DiffFile `json:"files"`
}

// Diff measures the lines in changed (from ChangedLines) against the profile r was computed from.
func (r *Report) Diff(p *Profile, changed map[string][]int) *DiffCoverage {
	d := &DiffCoverage{Files: []DiffFile{}}
	for _, fp := range p.Files {
		m, ok := r.measured[fp.Name]
		lines := changed[m.abs]
		if !ok || len(lines) == 0 {
			continue
		}
		hits := lineHits(fp.Blocks, m.src)
		df := DiffFile{Path: m.rel, Uncovered: []int{}}
		for _, l := range lines {
			n, holds := hits[l]
			if !holds {
				continue
			}
			df.Lines++
			if n > 0 {
				df.Covered++
			} else {
				df.Uncovered = append(df.Uncovered, l)
			}
		}
		if df.Lines > 0 {
			d.Lines += df.Lines
			d.Covered += df.Covered
			d.Files = append(d.Files, df)
		}
	}
	slices.SortFunc(d.Files, func(a, b DiffFile) int { return strings.Compare(a.Path, b.Path) })
	return d
}

// CheckDiff fails when the changed lines are covered less than min percent.
func (d *DiffCoverage) CheckDiff(min float64) (Failure, bool) {
	f := Failure{Scope: ScopeDiff, Name: "changed lines", Min: min, Percent: d.Percent(), Uncovered: d.Lines - d.Covered}
	if min <= 0 || d.Percent() >= min {
		return f, true
	}
	f.Message = fmt.Sprintf("changed lines %s < %s%% (%d of %d lines covered)", pct(d.Percent(), min), trimFloat(min), d.Covered, d.Lines)
	return f, false
}

// lineHits maps each line that a block with statements spans to the highest count of those blocks: a line
// ran when any block over it ran. Ignored blocks do not count.
func lineHits(blocks []Block, src *source) map[int]int {
	hits := map[int]int{}
	for _, b := range blocks {
		if b.NumStmt == 0 || src != nil && src.isIgnored(b) {
			continue
		}
		for l := b.StartLine; l <= b.EndLine; l++ {
			hits[l] = max(hits[l], b.Count)
		}
	}
	return hits
}
