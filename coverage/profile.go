package coverage

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Block is one basic block of a cover profile: a source range, its statements, and how often it ran.
type Block struct {
	StartLine, StartCol int
	EndLine, EndCol     int
	NumStmt             int
	Count               int
}

func (b Block) samePlace(o Block) bool {
	return b.StartLine == o.StartLine && b.StartCol == o.StartCol && b.EndLine == o.EndLine && b.EndCol == o.EndCol
}

// FileProfile is the blocks of one source file, sorted by start and without duplicates.
type FileProfile struct {
	// Name is the file as the profile names it: import path and file name ("example.com/m/pkg/a.go").
	Name   string
	Blocks []Block

	// While parsing: where each distinct block is in Blocks, and where the next block is expected when
	// a test binary of -coverpkg writes the file's blocks again in the same order.
	index map[blockPos]int
	next  int
}

// blockPos is where a block is in its file.
type blockPos struct{ startLine, startCol, endLine, endCol int }

// Profile is a parsed cover profile.
type Profile struct {
	Mode  string // set, count or atomic
	Files []*FileProfile
}

// ParseError is a malformed profile line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// InputError says that the file is the user's to fix: the command exits 2.
func (e *ParseError) InputError() bool { return true }

// ReadProfile parses the cover profile at path.
func ReadProfile(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading cover profile: %w", err)
	}
	defer f.Close()
	return ParseProfile(f, path)
}

// ParseProfile parses a cover profile ("mode: set" and lines "file.go:12.34,15.2 3 1"); name is used in
// errors. Repeated blocks, as `go test -coverpkg` writes them, are merged like `go tool cover` does: OR in
// set mode, sums otherwise; they are merged as they are read, so that memory grows with the distinct
// blocks, not with the lines.
func ParseProfile(r io.Reader, name string) (*Profile, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	p := &Profile{}
	byName := map[string]*FileProfile{}
	var last *FileProfile
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if p.Mode == "" {
			mode, ok := bytes.CutPrefix(line, []byte("mode: "))
			if !ok {
				return nil, &ParseError{name, lineNo, fmt.Sprintf("want a first line \"mode: set|count|atomic\", got %q", truncate(line))}
			}
			switch m := string(mode); m {
			case "set", "count", "atomic":
				p.Mode = m
			default:
				return nil, &ParseError{name, lineNo, fmt.Sprintf("unknown mode %q (want set, count or atomic)", m)}
			}
			continue
		}
		if len(line) == 0 {
			continue
		}
		file, b, err := parseBlock(line)
		if err != nil {
			return nil, &ParseError{name, lineNo, fmt.Sprintf("%s in %q (want FILE:LINE.COL,LINE.COL STATEMENTS COUNT)", err, truncate(line))}
		}
		// Lines of one file come together: compare with the last file before a map lookup and a string.
		if last == nil || last.Name != string(file) {
			fp, ok := byName[string(file)]
			if !ok {
				fp = &FileProfile{Name: string(file), index: map[blockPos]int{}}
				byName[fp.Name] = fp
				p.Files = append(p.Files, fp)
			}
			last, fp.next = fp, 0
		}
		if err := last.add(b, p.Mode); err != nil {
			return nil, &ParseError{name, lineNo, err.Error()}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{name, lineNo + 1, err.Error()}
	}
	if p.Mode == "" {
		return nil, &ParseError{name, 1, "empty profile: want a first line \"mode: set|count|atomic\""}
	}
	for _, fp := range p.Files {
		fp.index = nil
		if err := fp.normalize(p.Mode); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	slices.SortFunc(p.Files, func(a, b *FileProfile) int { return strings.Compare(a.Name, b.Name) })
	return p, nil
}

// add merges b into the block at its place, or appends it: the one expected next first, then the index.
func (fp *FileProfile) add(b Block, mode string) error {
	pos := blockPos{b.StartLine, b.StartCol, b.EndLine, b.EndCol}
	i, ok := fp.next, fp.next < len(fp.Blocks) && fp.Blocks[fp.next].samePlace(b)
	if !ok {
		i, ok = fp.index[pos]
	}
	if !ok {
		fp.index[pos] = len(fp.Blocks)
		fp.Blocks = append(fp.Blocks, b)
		fp.next = len(fp.Blocks)
		return nil
	}
	fp.next = i + 1
	return fp.merge(&fp.Blocks[i], b, mode)
}

// merge adds the count of b to prev, the block at the same place: OR in set mode, a sum otherwise.
func (fp *FileProfile) merge(prev *Block, b Block, mode string) error {
	if b.NumStmt != prev.NumStmt {
		return fmt.Errorf("%s:%d.%d: the block counts %d statements in one profile and %d in another: the profiles come from different sources",
			fp.Name, b.StartLine, b.StartCol, prev.NumStmt, b.NumStmt)
	}
	if mode == "set" {
		prev.Count |= b.Count
	} else {
		prev.Count += b.Count
	}
	return nil
}

// parseBlock parses "file:sl.sc,el.ec n c" from the end, since file names may hold ':' and '.'.
func parseBlock(line []byte) (file []byte, b Block, err error) {
	end := len(line)
	fields := [...]struct {
		sep  byte
		dest *int
		what string
	}{
		{' ', &b.Count, "count"}, {' ', &b.NumStmt, "statement count"}, {'.', &b.EndCol, "end column"},
		{',', &b.EndLine, "end line"}, {'.', &b.StartCol, "start column"}, {':', &b.StartLine, "start line"},
	}
	for _, f := range fields {
		i := bytes.LastIndexByte(line[:end], f.sep)
		if i < 0 {
			return nil, b, fmt.Errorf("no %q before the %s", f.sep, f.what)
		}
		n, ok := atoi(line[i+1 : end])
		if !ok {
			return nil, b, fmt.Errorf("bad %s %q", f.what, line[i+1:end])
		}
		*f.dest = n
		end = i
	}
	if end == 0 {
		return nil, b, fmt.Errorf("no file name")
	}
	return line[:end], b, nil
}

// atoi parses a non-negative decimal without allocating.
func atoi(s []byte) (int, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func truncate(line []byte) string {
	if len(line) > 120 {
		return string(line[:120]) + "…"
	}
	return string(line)
}

// normalize sorts the blocks by start and merges those at the same place.
func (fp *FileProfile) normalize(mode string) error {
	less := func(a, b Block) int {
		if a.StartLine != b.StartLine {
			return a.StartLine - b.StartLine
		}
		return a.StartCol - b.StartCol
	}
	if !slices.IsSortedFunc(fp.Blocks, less) {
		slices.SortStableFunc(fp.Blocks, less)
	}
	out := fp.Blocks[:1]
	for _, b := range fp.Blocks[1:] {
		prev := &out[len(out)-1]
		if !b.samePlace(*prev) {
			out = append(out, b)
			continue
		}
		if err := fp.merge(prev, b, mode); err != nil {
			return err
		}
	}
	fp.Blocks = out
	return nil
}

// Merge combines profiles of the same sources, as written by several test runs. Profiles in set mode merge
// with the others as set: a block ran or it did not.
func Merge(profiles ...*Profile) (*Profile, error) {
	if len(profiles) == 1 {
		return profiles[0], nil
	}
	merged := &Profile{Mode: profiles[0].Mode}
	byName := map[string]*FileProfile{}
	for _, p := range profiles {
		if p.Mode != merged.Mode {
			merged.Mode = "set"
		}
		for _, fp := range p.Files {
			m, ok := byName[fp.Name]
			if !ok {
				m = &FileProfile{Name: fp.Name}
				byName[fp.Name] = m
				merged.Files = append(merged.Files, m)
			}
			m.Blocks = append(m.Blocks, fp.Blocks...)
		}
	}
	for _, fp := range merged.Files {
		if merged.Mode == "set" {
			for i := range fp.Blocks {
				fp.Blocks[i].Count = min(fp.Blocks[i].Count, 1)
			}
		}
		if err := fp.normalize(merged.Mode); err != nil {
			return nil, fmt.Errorf("merging profiles: %w", err)
		}
	}
	slices.SortFunc(merged.Files, func(a, b *FileProfile) int { return strings.Compare(a.Name, b.Name) })
	return merged, nil
}

// Write writes p in the cover profile format go test writes (and go tool cover reads).
func (p *Profile) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "mode: %s\n", p.Mode)
	for _, f := range p.Files {
		for _, b := range f.Blocks {
			fmt.Fprintf(bw, "%s:%d.%d,%d.%d %d %d\n", f.Name, b.StartLine, b.StartCol, b.EndLine, b.EndCol, b.NumStmt, b.Count)
		}
	}
	return bw.Flush()
}
