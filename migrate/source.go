package migrate

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Migration is one version of the migrations directory: its up and, when present, down SQL file.
type Migration struct {
	Version uint64
	Name    string
	Up      string // file name of the up part
	Down    string // file name of the down part, "" when there is none
	// Checksum is the sha256 of the up file (of a live migration: its expand part), hex.
	Checksum string
	// Live holds the other parts of a live multistage migration; nil for a single-phase one.
	Live *Live `json:"live,omitempty"`
}

// Source is the migrations of a directory or an embed.FS.
type Source struct {
	FS         fs.FS
	Migrations []Migration // by version
}

// FileError is a migration file that cannot be used, with the reason and what to do.
type FileError struct {
	File string
	Msg  string
}

func (e *FileError) Error() string { return e.File + ": " + e.Msg }

// InputError says that the migration file is the user's to fix: the command exits 2.
func (e *FileError) InputError() bool { return true }

// fileName is golang-migrate's naming: {version}_{name}.{up|down}.{ext}.
var fileName = regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.([a-z]+)$`)

// looksLikeMigration is a name that starts with a version or says up or down: a migration misnamed,
// not a README or a seed file.
var looksLikeMigration = regexp.MustCompile(`(?i)^[0-9]+([_.-]|$)|\.(up|down)(\.|$)|_(up|down)\.sql$`)

// ParseFileName reads a migration file name. ok is false for files that are not migrations (README.md,
// seed.sql); err is set, with ok, for names that look like migrations but are not one, so that a
// misnamed file is never skipped without a word.
func ParseFileName(name string) (version uint64, title, direction string, ok bool, err error) {
	m := fileName.FindStringSubmatch(name)
	if m == nil {
		if !looksLikeMigration.MatchString(name) {
			return 0, "", "", false, nil
		}
		return 0, "", "", true, misnamed(name)
	}
	if m[4] != "sql" {
		return 0, "", "", true, fmt.Errorf("migrations are .sql files (want %s_%s.%s.sql)", m[1], m[2], m[3])
	}
	version, perr := strconv.ParseUint(m[1], 10, 64)
	if perr != nil {
		return 0, "", "", true, fmt.Errorf("version %s does not fit in 64 bits", m[1])
	}
	if m[2] == "" {
		return 0, "", "", true, fmt.Errorf("no name after the version (want %s_create_users.%s.sql)", m[1], m[3])
	}
	if version == 0 {
		return 0, "", "", true, fmt.Errorf("version 0 reads as no migration applied, so it would never run: number migrations from 1 (want 1_%s.%s.sql)", m[2], m[3])
	}
	return version, m[2], m[3], true, nil
}

// anyCaseDirection is .up.sql or .down.sql in any case, at the end of a name.
var anyCaseDirection = regexp.MustCompile(`(?i)\.(up|down)\.sql$`)

// misnamed says what is wrong with the name of a file that looks like a migration but does not parse.
func misnamed(name string) error {
	const want = "want {version}_{name}.up.sql and {version}_{name}.down.sql, as 1_create_users.up.sql"
	version, rest, hasUnderscore := strings.Cut(name, "_")
	switch {
	case !hasUnderscore && strings.Trim(strings.SplitN(name, ".", 2)[0], "0123456789") == "":
		return fmt.Errorf("no name after the version (%s)", want)
	case hasUnderscore && strings.Trim(version, "0123456789") != "":
		return fmt.Errorf("the version before the first _ must be a number, such as a timestamp (%s)", want)
	case hasUnderscore && anyCaseDirection.MatchString(rest):
		return fmt.Errorf(".up and .down are written in lower case (want %s)", anyCaseDirection.ReplaceAllStringFunc(name, strings.ToLower))
	case hasUnderscore && !strings.Contains(rest, ".up.") && !strings.Contains(rest, ".down."):
		base := strings.TrimSuffix(name, ".sql")
		base = strings.TrimSuffix(strings.TrimSuffix(base, "_up"), "_down")
		return fmt.Errorf("no .up or .down before the extension (want %s.up.sql and %s.down.sql)", base, base)
	}
	return fmt.Errorf("not a migration file name (%s)", want)
}

// ReadSource lists the migrations of fsys (a directory's os.DirFS or an embed.FS sub-tree). It refuses two
// files for one version and direction, and down files without their up.
func ReadSource(fsys fs.FS) (*Source, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the migrations: %w", err)
	}
	byVersion := map[uint64]*Migration{}
	for _, e := range entries {
		if e.IsDir() {
			m, ok, err := readLiveDir(fsys, e.Name())
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if other := byVersion[m.Version]; other != nil {
				return nil, &FileError{File: e.Name(), Msg: fmt.Sprintf("version %d is also %s: give each migration its own version", m.Version, cmp.Or(other.Up, other.Down))}
			}
			byVersion[m.Version] = m
			continue
		}
		if liveFileName.MatchString(e.Name()) {
			data, err := fs.ReadFile(fsys, e.Name())
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", e.Name(), err)
			}
			m, _, err := readLiveFile(data, e.Name())
			if err != nil {
				return nil, err
			}
			if other := byVersion[m.Version]; other != nil {
				return nil, &FileError{File: e.Name(), Msg: fmt.Sprintf("version %d is also %s: give each migration its own version", m.Version, cmp.Or(other.Up, other.Down, other.Live.Dir))}
			}
			byVersion[m.Version] = m
			continue
		}
		v, title, dir, ok, err := ParseFileName(e.Name())
		if err != nil {
			return nil, &FileError{File: e.Name(), Msg: err.Error()}
		}
		if !ok {
			continue
		}
		m := byVersion[v]
		if m != nil && m.Live != nil {
			return nil, &FileError{File: e.Name(), Msg: fmt.Sprintf("version %d is also the live migration %s: give each migration its own version", v, m.File())}
		}
		if m == nil {
			m = &Migration{Version: v, Name: title}
			byVersion[v] = m
		}
		if m.Name != title {
			return nil, &FileError{File: e.Name(), Msg: fmt.Sprintf("version %d is also named %q: give each migration its own version", v, m.Name)}
		}
		slot := &m.Up
		if dir == "down" {
			slot = &m.Down
		}
		if *slot != "" {
			return nil, &FileError{File: e.Name(), Msg: fmt.Sprintf("version %d has two %s files (%s too)", v, dir, *slot)}
		}
		*slot = e.Name()
	}
	s := &Source{FS: fsys}
	for _, m := range byVersion {
		if m.Live != nil && m.Live.Operation != nil {
			if err := m.generate(Postgres); err != nil {
				return nil, err
			}
			s.Migrations = append(s.Migrations, *m)
			continue
		}
		if m.Up == "" {
			return nil, &FileError{File: m.Down, Msg: "a down file without its up file"}
		}
		data, err := fs.ReadFile(fsys, m.Up)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", m.Up, err)
		}
		sum := sha256.Sum256(data)
		m.Checksum = hex.EncodeToString(sum[:])
		s.Migrations = append(s.Migrations, *m)
	}
	slices.SortFunc(s.Migrations, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	return s, nil
}

// Generate writes the parts of the generated live migrations for dialect d (ReadSource writes them for
// PostgreSQL).
func (s *Source) Generate(d Dialect) error {
	for i := range s.Migrations {
		if m := &s.Migrations[i]; m.Live != nil && m.Live.Operation != nil {
			if err := m.generate(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// Read returns the SQL of file, a part of m: a file of the directory, or SQL that a generated operation
// wrote.
func (s *Source) Read(m Migration, file string) (string, error) {
	if m.Live != nil && m.Live.SQL != nil {
		return m.Live.SQL[file], nil
	}
	body, err := fs.ReadFile(s.FS, file)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", file, err)
	}
	return string(body), nil
}

// File is where m is written: its up file, or the directory or .live.yaml file of a live migration.
func (m Migration) File() string {
	if m.Live != nil {
		return m.Live.Dir
	}
	return m.Up
}

// Find returns the migration of version v.
func (s *Source) Find(v uint64) (Migration, bool) {
	i, ok := slices.BinarySearchFunc(s.Migrations, v, func(m Migration, v uint64) int { return cmp.Compare(m.Version, v) })
	if !ok {
		return Migration{}, false
	}
	return s.Migrations[i], true
}

// slug makes a migration name from free text: "Add users table" becomes "add_users_table".
func slug(name string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			underscore = false
		} else if !underscore && b.Len() > 0 {
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
