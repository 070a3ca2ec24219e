package migrate

import (
	"regexp"
	"strings"
)

// Statement is one SQL statement of a migration file, as lint reads it.
type Statement struct {
	// SQL is the statement as written, without the comments around it and without its semicolon.
	SQL string
	// Words is SQL with its comments removed and its whitespace collapsed to single spaces (string
	// literals and quoted identifiers kept as they are): what lint's rules match.
	Words string
	// Line is the line, from 1, the statement starts on.
	Line int
	// Ignore holds the rules a `-- shipyard:ignore RULE` comment turns off for this statement: one
	// written just before it, inside it, or after its semicolon on its last line.
	Ignore []string
}

var ignoreComment = regexp.MustCompile(`shipyard:ignore\s+([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)`)

// SplitSQL cuts a migration file into its statements at the semicolons outside string literals, quoted
// identifiers, dollar-quoted bodies and comments, the way PostgreSQL, MySQL and SQLite read them.
// Backslash escapes in literals are read as MySQL does when mysqlEscapes is set, and always in E'…'.
func SplitSQL(src string, mysqlEscapes bool) []Statement {
	s := splitter{src: src, line: 1, mysql: mysqlEscapes}
	s.run()
	return s.out
}

type splitter struct {
	src   string
	i     int
	line  int
	mysql bool
	out   []Statement

	start   int // byte offset of the current statement, -1 when none started
	words   strings.Builder
	space   bool     // a space is owed to words before the next token
	ignore  []string // from comments since the last statement
	endLine int      // the line the last statement ended on
}

func (s *splitter) run() {
	s.start = -1
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '-' && s.peek(1) == '-', c == '#' && s.mysql:
			s.lineComment()
		case c == '/' && s.peek(1) == '*':
			s.blockComment()
		case c == ';':
			s.end()
			s.i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			if c == '\n' {
				s.line++
			}
			s.space = true
			s.i++
		case c == '\'':
			escapes := s.mysql || s.i > 0 && (s.src[s.i-1] == 'E' || s.src[s.i-1] == 'e') && (s.i < 2 || !isIdent(s.src[s.i-2]))
			s.quoted('\'', escapes)
		case c == '"':
			s.quoted('"', false)
		case c == '`':
			s.quoted('`', false)
		case c == '$' && (s.i == 0 || !isIdent(s.src[s.i-1])):
			if tag, ok := s.dollarTag(); ok {
				s.dollarQuoted(tag)
			} else {
				s.token(1)
			}
		default:
			s.token(1)
		}
	}
	s.end()
}

func (s *splitter) peek(n int) byte {
	if s.i+n < len(s.src) {
		return s.src[s.i+n]
	}
	return 0
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// token adds the next n bytes to the current statement, starting one if needed.
func (s *splitter) token(n int) {
	if s.start < 0 {
		s.start = s.i
		s.space = false
	}
	if s.space && s.words.Len() > 0 {
		s.words.WriteByte(' ')
	}
	s.space = false
	text := s.src[s.i:min(s.i+n, len(s.src))]
	s.words.WriteString(text)
	s.line += strings.Count(text, "\n")
	s.i += len(text)
}

func (s *splitter) comment(text string) {
	if m := ignoreComment.FindStringSubmatch(text); m != nil {
		for r := range strings.SplitSeq(m[1], ",") {
			rule := strings.TrimSpace(r)
			// After a semicolon on the same line: it belongs to the statement that just ended.
			if s.start < 0 && len(s.out) > 0 && s.endLine == s.line {
				last := &s.out[len(s.out)-1]
				last.Ignore = append(last.Ignore, rule)
				continue
			}
			s.ignore = append(s.ignore, rule)
		}
	}
	s.space = true
}

func (s *splitter) lineComment() {
	end := strings.IndexByte(s.src[s.i:], '\n')
	if end < 0 {
		end = len(s.src) - s.i
	}
	s.comment(s.src[s.i : s.i+end])
	s.i += end
}

// blockComment skips /* … */, nested as PostgreSQL nests them.
func (s *splitter) blockComment() {
	from, depth := s.i, 0
	for s.i < len(s.src) {
		switch {
		case s.src[s.i] == '/' && s.peek(1) == '*':
			depth++
			s.i += 2
		case s.src[s.i] == '*' && s.peek(1) == '/':
			depth--
			s.i += 2
			if depth == 0 {
				s.comment(s.src[from:s.i])
				s.line += strings.Count(s.src[from:s.i], "\n")
				return
			}
		default:
			s.i++
		}
	}
	s.line += strings.Count(s.src[from:], "\n")
	s.comment(s.src[from:])
}

// quoted reads a literal or identifier to its closing quote; a doubled quote is part of it.
func (s *splitter) quoted(q byte, escapes bool) {
	n := 1
	for s.i+n < len(s.src) {
		c := s.src[s.i+n]
		switch {
		case escapes && c == '\\':
			n += 2
			continue
		case c == q && s.i+n+1 < len(s.src) && s.src[s.i+n+1] == q:
			n += 2
			continue
		case c == q:
			s.token(n + 1)
			return
		}
		n++
	}
	s.token(len(s.src) - s.i)
}

// dollarTag reads $tag$ or $$ at the cursor.
func (s *splitter) dollarTag() (string, bool) {
	j := s.i + 1
	for j < len(s.src) && isIdent(s.src[j]) {
		j++
	}
	if j >= len(s.src) || s.src[j] != '$' {
		return "", false
	}
	tag := s.src[s.i : j+1]
	if len(tag) > 2 && tag[1] >= '0' && tag[1] <= '9' {
		return "", false // $1 is a parameter
	}
	return tag, true
}

func (s *splitter) dollarQuoted(tag string) {
	end := strings.Index(s.src[s.i+len(tag):], tag)
	if end < 0 {
		s.token(len(s.src) - s.i)
		return
	}
	s.token(len(tag) + end + len(tag))
}

// end closes the current statement, if any.
func (s *splitter) end() {
	if s.start < 0 {
		return
	}
	sql := strings.TrimSpace(s.src[s.start:s.i])
	if sql == "" { // only Unicode spaces
		s.start, s.space = -1, false
		s.words.Reset()
		return
	}
	s.out = append(s.out, Statement{
		SQL:    sql,
		Words:  s.words.String(),
		Line:   s.line - strings.Count(s.src[s.start:s.i], "\n"),
		Ignore: s.ignore,
	})
	s.start, s.ignore, s.endLine, s.space = -1, nil, s.line, false
	s.words.Reset()
}
