package coverage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Tally is how many items (lines, functions, branches) were hit of those found.
type Tally struct {
	Found int `json:"found"`
	Hit   int `json:"hit"`
}

// Percent is the hit share, 100 when nothing was found.
func (t Tally) Percent() float64 {
	if t.Found == 0 {
		return 100
	}
	return 100 * float64(t.Hit) / float64(t.Found)
}

func (t *Tally) add(o Tally) { t.Found += o.Found; t.Hit += o.Hit }

// LcovFile is the coverage of one source file of an lcov tracefile.
type LcovFile struct {
	Path      string `json:"path"`
	Lines     Tally  `json:"lines"`
	Functions Tally  `json:"functions"`
	Branches  Tally  `json:"branches"`
}

// LcovReport is an lcov tracefile (nyc, c8, jest, genhtml's input) summed like `lcov --summary`.
type LcovReport struct {
	Lines     Tally      `json:"lines"`
	Functions Tally      `json:"functions"`
	Branches  Tally      `json:"branches"`
	Files     []LcovFile `json:"files"`
}

// lcovRecord accumulates one file's data over all the records that name it.
type lcovRecord struct {
	lines     map[int]int
	functions map[string]int // by name: FN declares, FNDA counts
	branches  map[[3]string]int
}

// ReadLcov parses the lcov tracefile at path.
func ReadLcov(path string) (*LcovReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading lcov file: %w", err)
	}
	defer f.Close()
	return ParseLcov(f, path)
}

// ReadLcovs reads lcov tracefiles and adds them up, as `lcov -a` does: a source file's records in several
// of them (the shards of jest --shard, unit and integration runs) count together. A file that does not
// exist is an input error.
func ReadLcovs(paths ...string) (*LcovReport, error) {
	records := map[string]*lcovRecord{}
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &InputError{Err: fmt.Errorf("reading lcov file: %w", err)}
		}
		if err != nil {
			return nil, fmt.Errorf("reading lcov file: %w", err)
		}
		err = parseLcov(f, p, records)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return summarize(records), nil
}

// ParseLcov parses an lcov tracefile. Like lcov, it counts from the data lines (DA, FN/FNDA, BRDA) rather
// than the LF/LH summaries, and merges the records of one file (several test names, several runs).
func ParseLcov(r io.Reader, name string) (*LcovReport, error) {
	records := map[string]*lcovRecord{}
	if err := parseLcov(r, name, records); err != nil {
		return nil, err
	}
	return summarize(records), nil
}

// parseLcov adds the records of an lcov tracefile to records.
func parseLcov(r io.Reader, name string, records map[string]*lcovRecord) error {
	var cur *lcovRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	lineNo := 0
	fail := func(format string, args ...any) error {
		return &ParseError{File: name, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if line == "end_of_record" {
			if cur == nil {
				return fail("end_of_record outside a record")
			}
			cur = nil
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return fail("want KEY:VALUE, got %q", truncate([]byte(line)))
		}
		if key == "SF" {
			if value == "" {
				return fail("SF without a file name")
			}
			if records[value] == nil {
				records[value] = &lcovRecord{lines: map[int]int{}, functions: map[string]int{}, branches: map[[3]string]int{}}
			}
			cur = records[value]
			continue
		}
		switch key {
		case "TN", "LF", "LH", "FNF", "FNH", "BRF", "BRH", "VER":
			continue // test names and summaries: recomputed from the data
		}
		if cur == nil {
			return fail("%s before SF", key)
		}
		fields := strings.Split(value, ",")
		switch key {
		case "DA": // line,count[,checksum]
			if len(fields) < 2 {
				return fail("DA wants line,count: %q", value)
			}
			ln, err1 := strconv.Atoi(fields[0])
			n, err2 := parseCount(fields[1])
			if err1 != nil || err2 != nil || ln < 0 {
				return fail("DA wants line,count: %q", value)
			}
			cur.lines[ln] += n
		case "FN": // line,name or, from lcov 2, line,end,name
			if len(fields) < 2 {
				return fail("FN wants line,name: %q", value)
			}
			fn := fields[len(fields)-1]
			if _, seen := cur.functions[fn]; !seen {
				cur.functions[fn] = 0
			}
		case "FNDA": // count,name
			if len(fields) < 2 {
				return fail("FNDA wants count,name: %q", value)
			}
			n, err := parseCount(fields[0])
			if err != nil {
				return fail("FNDA wants count,name: %q", value)
			}
			cur.functions[strings.Join(fields[1:], ",")] += n
		case "BRDA": // line,block,branch,taken ("-": never evaluated)
			if len(fields) != 4 {
				return fail("BRDA wants line,block,branch,taken: %q", value)
			}
			n := 0
			if fields[3] != "-" {
				var err error
				if n, err = parseCount(fields[3]); err != nil {
					return fail("BRDA wants line,block,branch,taken: %q", value)
				}
			}
			cur.branches[[3]string{fields[0], fields[1], fields[2]}] += n
		}
		// Other keys (FNL, FNA of newer lcov, vendor extensions) carry nothing the totals need.
	}
	if err := sc.Err(); err != nil {
		return &ParseError{File: name, Line: lineNo + 1, Msg: err.Error()}
	}
	if cur != nil {
		return &ParseError{File: name, Line: lineNo, Msg: "the last record has no end_of_record"}
	}
	return nil
}

// parseCount reads an execution count; some tools write large counts in floating point.
func parseCount(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad count %q", s)
	}
	return int(min(f, 1<<53)), nil
}

func summarize(records map[string]*lcovRecord) *LcovReport {
	rep := &LcovReport{Files: []LcovFile{}}
	for p, rec := range records {
		f := LcovFile{Path: p}
		for _, n := range rec.lines {
			f.Lines.Found++
			if n > 0 {
				f.Lines.Hit++
			}
		}
		for _, n := range rec.functions {
			f.Functions.Found++
			if n > 0 {
				f.Functions.Hit++
			}
		}
		for _, n := range rec.branches {
			f.Branches.Found++
			if n > 0 {
				f.Branches.Hit++
			}
		}
		rep.Lines.add(f.Lines)
		rep.Functions.add(f.Functions)
		rep.Branches.add(f.Branches)
		rep.Files = append(rep.Files, f)
	}
	slices.SortFunc(rep.Files, func(a, b LcovFile) int { return strings.Compare(a.Path, b.Path) })
	return rep
}

// LcovThresholds are minimum percentages of lines, functions and branches in total, and of lines per file.
// Negative values are the most items allowed to stay uncovered.
type LcovThresholds struct {
	Lines, Functions, Branches, File float64
}

// Check returns the thresholds the report misses.
func (r *LcovReport) Check(t LcovThresholds) []Failure {
	failures := []Failure{}
	for _, c := range []struct {
		what  Scope
		tally Tally
		min   float64
	}{{ScopeLines, r.Lines, t.Lines}, {ScopeFunctions, r.Functions, t.Functions}, {ScopeBranches, r.Branches, t.Branches}} {
		if f, ok := check(c.what, string(c.what), Counts{Statements: c.tally.Found, Covered: c.tally.Hit}, c.min, string(c.what)); !ok {
			failures = append(failures, f)
		}
	}
	for _, f := range r.Files {
		if fl, ok := check(ScopeFile, f.Path, Counts{Statements: f.Lines.Found, Covered: f.Lines.Hit}, t.File, "lines"); !ok {
			failures = append(failures, fl)
		}
	}
	return failures
}

// Exclude leaves out the files matching the globs and recomputes the totals.
func (r *LcovReport) Exclude(globs ...string) (*LcovReport, error) {
	if err := checkPatterns(globs); err != nil {
		return nil, err
	}
	out := &LcovReport{Files: []LcovFile{}}
	for _, f := range r.Files {
		if slices.ContainsFunc(globs, func(g string) bool { return match(g, f.Path) || match(g, path.Clean(strings.TrimPrefix(f.Path, "./"))) }) {
			continue
		}
		out.Lines.add(f.Lines)
		out.Functions.add(f.Functions)
		out.Branches.add(f.Branches)
		out.Files = append(out.Files, f)
	}
	return out, nil
}
