package migrate

import (
	"fmt"
	"strings"
)

// mysqlGen writes the operations MySQL and MariaDB can run online: indexes built in place without
// blocking writes (ALGORITHM=INPLACE, LOCK=NONE; a unique index is the unique constraint there), and
// columns added instantly (ALGORITHM=INSTANT) with a constant default. The others need triggers whose
// expressions name NEW's columns, or a validation step MySQL does not have: write those as a directory.
type mysqlGen struct{ op *Operation }

func (g mysqlGen) sql() (parts, *Backfill, error) {
	op := g.op
	switch op.Op {
	case "add_index", "add_unique":
		unique, suffix := "", "idx"
		if op.Op == "add_unique" {
			unique, suffix = "UNIQUE ", "key"
		}
		name := op.Name
		if name == "" {
			name = ident(append(append([]string{pgGen(g).table()}, op.Columns...), suffix)...)
		}
		return parts{
			expandUpFile:   fmt.Sprintf("ALTER TABLE %s ADD %sINDEX %s (%s), ALGORITHM=INPLACE, LOCK=NONE;\n", op.Table, unique, name, strings.Join(op.Columns, ", ")),
			expandDownFile: fmt.Sprintf("ALTER TABLE %s DROP INDEX %s, ALGORITHM=INPLACE, LOCK=NONE;\n", op.Table, name),
		}, nil, nil
	case "add_column":
		if op.Up != "" || volatileRE.MatchString(op.Default) {
			break
		}
		def, nn := "", ""
		if op.Default != "" {
			def = " DEFAULT " + op.Default
		}
		if op.NotNull {
			nn = " NOT NULL"
		}
		return parts{
			expandUpFile:   fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s%s%s, ALGORITHM=INSTANT;\n", op.Table, op.Column, op.Type, def, nn),
			expandDownFile: fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s;\n", op.Table, op.Column),
		}, nil, nil
	}
	return nil, nil, fmt.Errorf("%s is generated for PostgreSQL only (on MySQL: add_index, add_unique, add_column with a constant default); on mysql, write the parts in a directory %s/", describe(op), strings.TrimSuffix(strings.TrimSuffix(op.File, ".yaml"), ".live"))
}

// describe names the operation for messages: "add_column with up".
func describe(op *Operation) string {
	if op.Op == "add_column" && op.Up != "" {
		return "add_column with up"
	}
	if op.Op == "add_column" {
		return "add_column with a volatile default"
	}
	return op.Op
}
