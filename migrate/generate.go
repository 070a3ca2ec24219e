package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Generated live migrations.
//
// The common changes of a busy table are declared in a {version}_{name}.live.yaml file and shipyard
// writes their three phases and downs, the way pgroll and GitLab's migration helpers do them on
// PostgreSQL: a new column beside the old one kept in step by a trigger while both versions of the
// service run, NOT NULL as a CHECK … NOT VALID validated at contract (so SET NOT NULL skips its scan),
// foreign keys NOT VALID then validated, unique indexes built CONCURRENTLY.

// Operation is a .live.yaml file.
type Operation struct {
	File string `yaml:"-" json:"file"`
	// Op is add_column, rename_column, change_column_type, add_foreign_key, add_unique or add_index.
	Op     string `yaml:"operation" json:"operation"`
	Table  string `yaml:"table" json:"table"`
	Column string `yaml:"column" json:"column,omitempty"`
	// Type is the column's type (add_column, rename_column) or its new type (change_column_type).
	Type    string `yaml:"type" json:"type,omitempty"`
	Default string `yaml:"default" json:"default,omitempty"`
	NotNull bool   `yaml:"not_null" json:"not_null,omitempty"`
	// Up computes the new column from the row's other columns, for the rows that exist and the rows the
	// old service writes (add_column, change_column_type: default the old column).
	Up string `yaml:"up" json:"up,omitempty"`
	// To is rename_column's new name.
	To string `yaml:"to" json:"to,omitempty"`
	// References is add_foreign_key's "table(column)"; OnDelete its ON DELETE action.
	References string `yaml:"references" json:"references,omitempty"`
	OnDelete   string `yaml:"on_delete" json:"on_delete,omitempty"`
	// Columns and Name are add_unique's and add_index's.
	Columns []string `yaml:"columns" json:"columns,omitempty"`
	Name    string   `yaml:"name" json:"name,omitempty"`
	// Key is the table's primary key column for the backfill (default id).
	Key       string `yaml:"key" json:"key,omitempty"`
	BatchSize int    `yaml:"batch_size" json:"batch_size,omitempty"`
}

// Operations lists the operations a .live.yaml file can declare.
var Operations = []string{"add_column", "rename_column", "change_column_type", "add_foreign_key", "add_unique", "add_index"}

// liveFileName is {version}_{name}.live.yaml.
var liveFileName = regexp.MustCompile(`^([0-9]+)_(.+)\.live\.ya?ml$`)

var (
	referencesRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$`)
	onDeleteRE   = regexp.MustCompile(`(?i)^(CASCADE|RESTRICT|NO ACTION|SET NULL|SET DEFAULT)$`)
)

// ParseOperation reads a .live.yaml file; errors name the file and line.
func ParseOperation(file string, data []byte) (*Operation, error) {
	op := &Operation{}
	if err := decodeYAML(file, data, op, "it needs operation and table"); err != nil {
		return nil, err
	}
	op.File = file
	if op.Key == "" {
		op.Key = "id"
	}
	if err := op.check(); err != nil {
		return nil, &FileError{File: file, Msg: err.Error()}
	}
	return op, nil
}

// check says what the operation lacks, or holds that cannot be.
func (op *Operation) check() error {
	need := func(field, value string) error {
		if value == "" {
			return fmt.Errorf("%s needs %s", op.Op, field)
		}
		return nil
	}
	ident := func(field, value string, re *regexp.Regexp) error {
		if value != "" && !re.MatchString(value) {
			return fmt.Errorf("%s %q must be a plain name (letters, digits, _)", field, value)
		}
		return nil
	}
	noSemicolon := func(field, value string) error {
		if strings.Contains(value, ";") {
			return fmt.Errorf("%s must be one SQL expression, without ';'", field)
		}
		return nil
	}
	errs := []error{
		need("table", op.Table), ident("table", op.Table, tableIdent), ident("column", op.Column, plainIdent),
		ident("to", op.To, plainIdent), ident("name", op.Name, plainIdent), ident("key", op.Key, plainIdent),
		noSemicolon("type", op.Type), noSemicolon("default", op.Default), noSemicolon("up", op.Up),
	}
	for _, c := range op.Columns {
		errs = append(errs, ident("columns", c, plainIdent))
	}
	switch op.Op {
	case "add_column":
		errs = append(errs, need("column", op.Column), need("type", op.Type))
		if op.NotNull && op.Default == "" && op.Up == "" {
			errs = append(errs, errors.New("add_column with not_null needs a default or an up expression for the rows that exist"))
		}
	case "rename_column":
		errs = append(errs, need("column", op.Column), need("to", op.To), need("type (the column's type)", op.Type))
		if op.To != "" && strings.EqualFold(op.To, op.Column) { // unquoted names fold: Name and name are one column
			errs = append(errs, fmt.Errorf("rename_column: to is column's own name %s: name the new one", op.Column))
		}
	case "change_column_type":
		errs = append(errs, need("column", op.Column), need("type (the new type)", op.Type))
	case "add_foreign_key":
		errs = append(errs, need("column", op.Column), need("references", op.References))
		if op.References != "" && !referencesRE.MatchString(op.References) {
			errs = append(errs, fmt.Errorf("references %q must be table(column)", op.References))
		}
		if op.OnDelete != "" && !onDeleteRE.MatchString(op.OnDelete) {
			errs = append(errs, fmt.Errorf("on_delete %q must be CASCADE, RESTRICT, NO ACTION, SET NULL or SET DEFAULT", op.OnDelete))
		}
	case "add_unique", "add_index":
		if len(op.Columns) == 0 {
			errs = append(errs, fmt.Errorf("%s needs columns", op.Op))
		}
	case "":
		return fmt.Errorf("operation is missing: one of %s", strings.Join(Operations, ", "))
	default:
		return fmt.Errorf("operation %q is not one of %s", op.Op, strings.Join(Operations, ", "))
	}
	return errors.Join(errs...)
}

// readLiveFile reads a generated live migration; ok is false for a file that is not one.
func readLiveFile(data []byte, name string) (*Migration, bool, error) {
	match := liveFileName.FindStringSubmatch(name)
	if match == nil {
		return nil, false, nil
	}
	v, title, _, _, err := ParseFileName(match[1] + "_" + match[2] + ".up.sql")
	if err != nil {
		return nil, true, &FileError{File: name, Msg: err.Error()}
	}
	op, err := ParseOperation(name, data)
	if err != nil {
		return nil, true, err
	}
	sum := sha256.Sum256(data)
	m := &Migration{Version: v, Name: title, Checksum: hex.EncodeToString(sum[:]), Live: &Live{Dir: name, Operation: op}}
	return m, true, nil
}

// generate writes the parts of a generated live migration for dialect.
func (m *Migration) generate(d Dialect) error {
	op := m.Live.Operation
	parts, backfill, err := dialectOf(d, nil).generate(op)
	if err != nil {
		return &FileError{File: op.File, Msg: err.Error()}
	}
	m.Live.SQL = map[string]string{}
	name := func(part string) string { return op.File + ":" + part }
	m.Up, m.Down, m.Live.ContractUp, m.Live.ContractDown, m.Live.Backfill = "", "", "", "", nil
	for part, slot := range map[string]*string{expandUpFile: &m.Up, expandDownFile: &m.Down, contractUpFile: &m.Live.ContractUp, contractDownFile: &m.Live.ContractDown} {
		if body, ok := parts[part]; ok {
			*slot = name(part)
			m.Live.SQL[*slot] = body
		}
	}
	if backfill != nil {
		backfill.File, backfill.Key, backfill.BatchSize = name(backfillFile), op.Key, op.BatchSize
		m.Live.Backfill = backfill
	}
	return nil
}

// sql is the operation's parts on PostgreSQL, and its backfill (nil when it needs none).
func (g pgGen) sql() (map[string]string, *Backfill, error) {
	switch g.op.Op {
	case "add_column":
		return g.addColumn()
	case "rename_column":
		return g.renameColumn()
	case "change_column_type":
		return g.changeType()
	case "add_foreign_key":
		return g.foreignKey()
	default:
		return g.index()
	}
}
