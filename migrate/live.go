package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Live multistage migrations.
//
// A live migration changes a busy table in phases that run at different times around a deploy, so that
// the old and the new version of the service run side by side: expand (additive: new columns, indexes
// built CONCURRENTLY, triggers that write both shapes) before the deploy, backfill (the rows that existed
// before expand, in short batches), and contract (drop the old shape, validate constraints) once every
// instance runs the new code. It is one version of the migrations directory: a directory
// {version}_{name}/ holding the parts, or a generated operation {version}_{name}.live.yaml.

// Phase is how far a live migration went.
type Phase string

const (
	// PhaseExpand: the expand part is applied; backfill and contract are to come.
	PhaseExpand Phase = "expand"
	// PhaseBackfill: the backfill is done (or there is none); contract is to come.
	PhaseBackfill Phase = "backfill"
	// PhaseContract: the contract part is applied: the migration is complete.
	PhaseContract Phase = "contract"
)

// ParsePhase reads a --phase value.
func ParsePhase(s string) (Phase, error) {
	switch p := Phase(s); p {
	case PhaseExpand, PhaseBackfill, PhaseContract:
		return p, nil
	}
	return "", fmt.Errorf("phase %q is not expand, backfill or contract", s)
}

// Live is the parts of a live migration, as paths in the source's file system. Expand is Migration.Up
// and its down Migration.Down.
type Live struct {
	// Dir is the migration's directory, or its .live.yaml file when it is generated.
	Dir          string    `json:"dir"`
	ContractUp   string    `json:"contract_up,omitempty"`
	ContractDown string    `json:"contract_down,omitempty"`
	Backfill     *Backfill `json:"backfill,omitempty"`
	// Operation is the declaration of a generated live migration, nil for a directory. Its parts, SQL
	// by name (FILE:expand.up.sql, …), exist only in memory, written for the database's dialect.
	Operation *Operation        `json:"operation,omitempty"`
	SQL       map[string]string `json:"-"`
}

// The part files of a live migration directory.
const (
	expandUpFile     = "expand.up.sql"
	expandDownFile   = "expand.down.sql"
	backfillFile     = "backfill.yaml"
	contractUpFile   = "contract.up.sql"
	contractDownFile = "contract.down.sql"
)

// liveDirName is {version}_{name} of a live migration directory.
var liveDirName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_.-]+)$`)

// readLiveDir reads the live migration in directory dir of fsys; ok is false for a directory that is not
// one (a name without a version).
func readLiveDir(fsys fs.FS, dir string) (m *Migration, ok bool, err error) {
	match := liveDirName.FindStringSubmatch(dir)
	if match == nil {
		return nil, false, nil
	}
	v, perr := strconv.ParseUint(match[1], 10, 64)
	if perr != nil {
		return nil, true, &FileError{File: dir, Msg: fmt.Sprintf("version %s does not fit in 64 bits", match[1])}
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, true, fmt.Errorf("reading %s: %w", dir, err)
	}
	m = &Migration{Version: v, Name: match[2], Live: &Live{Dir: dir}}
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		switch e.Name() {
		case expandUpFile:
			m.Up = p
		case expandDownFile:
			m.Down = p
		case contractUpFile:
			m.Live.ContractUp = p
		case contractDownFile:
			m.Live.ContractDown = p
		case backfillFile:
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return nil, true, fmt.Errorf("reading %s: %w", p, err)
			}
			if m.Live.Backfill, err = ParseBackfill(p, data); err != nil {
				return nil, true, err
			}
		default:
			if strings.HasSuffix(e.Name(), ".sql") || strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml") {
				return nil, true, &FileError{File: p, Msg: "not a part of a live migration: the parts are " + strings.Join([]string{expandUpFile, expandDownFile, backfillFile, contractUpFile, contractDownFile}, ", ")}
			}
		}
	}
	switch {
	case m.Up == "":
		return nil, true, &FileError{File: dir, Msg: "a live migration needs " + expandUpFile}
	case m.Live.ContractDown != "" && m.Live.ContractUp == "":
		return nil, true, &FileError{File: m.Live.ContractDown, Msg: "a down file without its up file " + contractUpFile}
	}
	return m, true, nil
}

// Backfill is backfill.yaml: which rows of which table get which values, batch by batch in the order of
// the key.
type Backfill struct {
	File  string `yaml:"-" json:"file"`
	Table string `yaml:"table" json:"table"`
	// Key is the table's primary key column (default id): the batches are ranges of it.
	Key string `yaml:"key" json:"key"`
	// Set is the assignments of the UPDATE: "col = expr, …", or a mapping of column to expression.
	Set string `yaml:"-" json:"set"`
	// Where limits the rows updated (optional): the rows that still need the backfill.
	Where     string `yaml:"where" json:"where,omitempty"`
	BatchSize int    `yaml:"batch_size" json:"batch_size,omitempty"`
}

// ParseBackfill reads a backfill.yaml; errors name file and line.
func ParseBackfill(file string, data []byte) (*Backfill, error) {
	var raw struct {
		Table     string    `yaml:"table"`
		Key       string    `yaml:"key"`
		Set       yaml.Node `yaml:"set"`
		Where     string    `yaml:"where"`
		BatchSize int       `yaml:"batch_size"`
	}
	if err := decodeYAML(file, data, &raw, "it needs table, key and set"); err != nil {
		return nil, err
	}
	b := &Backfill{File: file, Table: raw.Table, Key: raw.Key, Where: raw.Where, BatchSize: raw.BatchSize}
	if b.Key == "" {
		b.Key = "id"
	}
	switch raw.Set.Kind {
	case yaml.ScalarNode:
		b.Set = strings.TrimSpace(raw.Set.Value)
	case yaml.MappingNode:
		var parts []string
		for i := 0; i+1 < len(raw.Set.Content); i += 2 {
			k, v := raw.Set.Content[i], raw.Set.Content[i+1]
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, &FileError{File: fmt.Sprintf("%s:%d", file, v.Line), Msg: fmt.Sprintf("set.%s must be an SQL expression", k.Value)}
			}
			parts = append(parts, k.Value+" = "+v.Value)
		}
		b.Set = strings.Join(parts, ", ")
	case 0:
	default:
		return nil, &FileError{File: fmt.Sprintf("%s:%d", file, raw.Set.Line), Msg: "set must be \"col = expr, …\" or a mapping of column to expression"}
	}
	switch {
	case b.Table == "":
		return nil, &FileError{File: file, Msg: "table is missing: the table to backfill"}
	case b.Set == "":
		return nil, &FileError{File: file, Msg: "set is missing: the columns to fill, as \"col = expr\" or a mapping"}
	case b.BatchSize < 0:
		return nil, &FileError{File: file, Msg: fmt.Sprintf("batch_size must be above 0, not %d", b.BatchSize)}
	case !plainIdent.MatchString(b.Key):
		return nil, &FileError{File: file, Msg: fmt.Sprintf("key %q must be one column name", b.Key)}
	case !tableIdent.MatchString(b.Table):
		return nil, &FileError{File: file, Msg: fmt.Sprintf("table %q must be a table name (schema.table at most)", b.Table)}
	}
	return b, nil
}

var (
	plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	tableIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)
)

// unknownField is yaml.v3's message for a key that the struct it decodes into lacks.
var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type .*$`)

// decodeYAML decodes data into v (a pointer to a struct), refusing keys v lacks. Errors name the file,
// the line and, for an unknown key, the keys there are, never a Go type.
func decodeYAML(file string, data []byte, v any, empty string) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return &FileError{File: file, Msg: "empty: " + empty}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var keys []string
		t := reflect.TypeOf(v).Elem()
		for i := range t.NumField() {
			if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
				keys = append(keys, k)
			}
		}
		if m := unknownField.FindStringSubmatch(te.Errors[0]); m != nil {
			return &FileError{File: file + ":" + m[1], Msg: fmt.Sprintf("unknown key %s (the keys are %s)", m[2], strings.Join(keys, ", "))}
		}
		return &FileError{File: file, Msg: strings.Join(te.Errors, "; ")}
	}
	if err != nil {
		return &FileError{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return nil
}
