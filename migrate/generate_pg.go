package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// pgGen writes the parts of one operation for PostgreSQL.
type pgGen struct{ op *Operation }

type parts = map[string]string

// ident makes a name of at most 63 bytes (PostgreSQL's limit) from words, with a hash when it is cut.
func ident(words ...string) string {
	s := strings.Join(words, "_")
	if len(s) <= 63 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return s[:54] + "_" + hex.EncodeToString(sum[:4])
}

// table is the operation's table without its schema, schema the "schema." prefix or "".
func (g pgGen) table() string {
	_, t, ok := strings.Cut(g.op.Table, ".")
	if !ok {
		return g.op.Table
	}
	return t
}

func (g pgGen) schema() string {
	s, _, ok := strings.Cut(g.op.Table, ".")
	if !ok {
		return ""
	}
	return s + "."
}

// trigger is the function and trigger that keep the two shapes in step while both services write,
// and their drop.
func (g pgGen) trigger(column, body string) (create, drop string) {
	fn := g.schema() + ident(g.table(), column, "shipyard_sync")
	trg := ident(g.table(), column, "shipyard_sync")
	create = fmt.Sprintf(`-- Keeps both shapes in step while the old and the new service write.
CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $shipyard$
BEGIN
%s
    RETURN NEW;
END
$shipyard$;
CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s
    FOR EACH ROW EXECUTE FUNCTION %s();
`, fn, strings.TrimRight(body, "\n"), trg, g.op.Table, fn)
	drop = fmt.Sprintf("DROP TRIGGER IF EXISTS %s ON %s;\nDROP FUNCTION IF EXISTS %s();\n", trg, g.op.Table, fn)
	return create, drop
}

// rowExpr evaluates expr, written with the table's column names, on the row a trigger writes.
func (g pgGen) rowExpr(expr string) string {
	return fmt.Sprintf("(SELECT %s FROM (SELECT NEW.*) AS %s)", expr, g.table())
}

// notNull is NOT NULL the way that does not scan under an exclusive lock: a CHECK added NOT VALID at
// expand, validated at contract (a scan that lets writes go on), which SET NOT NULL then trusts. The
// contract puts validate first, before any statement that takes an ACCESS EXCLUSIVE lock (DROP TRIGGER,
// SET NOT NULL) and holds it to the commit: the scan must not run under that lock.
func (g pgGen) notNull(column string) (expand, validate, finish, contractDown string) {
	chk := ident(g.table(), column, "not_null")
	expand = fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID;\n", g.op.Table, chk, column)
	validate = fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;\n", g.op.Table, chk)
	finish = fmt.Sprintf("ALTER TABLE %[1]s ALTER COLUMN %[3]s SET NOT NULL;\nALTER TABLE %[1]s DROP CONSTRAINT %[2]s;\n", g.op.Table, chk, column)
	contractDown = fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL;\n", g.op.Table, column) + expand
	return expand, validate, finish, contractDown
}

// addColumn: a constant default (or none) is instant on PostgreSQL 11 and later, so it is one expand.
// A volatile default or an up expression needs the column filled for the rows that exist: added
// nullable, kept filled by the default or a trigger, backfilled, then NOT NULL at contract.
func (g pgGen) addColumn() (parts, *Backfill, error) {
	op := g.op
	def := ""
	if op.Default != "" {
		def = " DEFAULT " + op.Default
	}
	if op.Up == "" && !volatileRE.MatchString(op.Default) {
		nn := ""
		if op.NotNull {
			nn = " NOT NULL"
		}
		return parts{
			expandUpFile:   fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s%s%s;\n", op.Table, op.Column, op.Type, def, nn),
			expandDownFile: fmt.Sprintf("ALTER TABLE %s DROP COLUMN IF EXISTS %s;\n", op.Table, op.Column),
		}, nil, nil
	}
	var expand, contract, finish, contractDown, down strings.Builder
	fmt.Fprintf(&expand, "ALTER TABLE %s ADD COLUMN %s %s;\n", op.Table, op.Column, op.Type)
	if op.Default != "" {
		fmt.Fprintf(&expand, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", op.Table, op.Column, op.Default)
	}
	if op.NotNull {
		e, v, f, cd := g.notNull(op.Column)
		expand.WriteString(e)
		contract.WriteString(v)
		finish.WriteString(f)
		contractDown.WriteString(cd)
	}
	value := op.Default
	if op.Up != "" {
		value = op.Up
		create, drop := g.trigger(op.Column, fmt.Sprintf(`    -- The old service does not write %[1]s: compute it.
    IF TG_OP = 'INSERT' THEN
        IF NEW.%[1]s IS NULL THEN
            NEW.%[1]s := %[2]s;
        END IF;
    ELSIF NEW.%[1]s IS NOT DISTINCT FROM OLD.%[1]s THEN
        NEW.%[1]s := %[2]s;
    END IF;`, op.Column, g.rowExpr(op.Up)))
		expand.WriteString(create)
		contract.WriteString(drop)
		contractDown.WriteString(create)
		down.WriteString(drop)
	}
	contract.WriteString(finish.String())
	fmt.Fprintf(&down, "ALTER TABLE %s DROP COLUMN IF EXISTS %s;\n", op.Table, op.Column)
	p := parts{expandUpFile: expand.String(), expandDownFile: down.String()}
	if contract.Len() > 0 {
		p[contractUpFile], p[contractDownFile] = contract.String(), contractDown.String()
	}
	return p, &Backfill{Table: op.Table, Set: fmt.Sprintf("%s = %s", op.Column, value), Where: op.Column + " IS NULL"}, nil
}

// renameColumn: the new name is a new column that a trigger keeps equal to the old one, whichever of
// the two the writing service knows; contract drops the old column.
func (g pgGen) renameColumn() (parts, *Backfill, error) {
	op := g.op
	create, drop := g.trigger(op.To, fmt.Sprintf(`    IF TG_OP = 'INSERT' THEN
        NEW.%[2]s := COALESCE(NEW.%[2]s, NEW.%[1]s); -- written by the old service
        NEW.%[1]s := COALESCE(NEW.%[1]s, NEW.%[2]s); -- written by the new service
    ELSIF NEW.%[1]s IS DISTINCT FROM OLD.%[1]s THEN
        NEW.%[2]s := NEW.%[1]s;
    ELSIF NEW.%[2]s IS DISTINCT FROM OLD.%[2]s THEN
        NEW.%[1]s := NEW.%[2]s;
    END IF;`, op.Column, op.To))
	var expand, contract, finish, contractDown strings.Builder
	fmt.Fprintf(&expand, "ALTER TABLE %s ADD COLUMN %s %s;\n%s", op.Table, op.To, op.Type, create)
	fmt.Fprintf(&contractDown, "-- Brings the old column back, filled in one statement: a way out, not a live change.\nALTER TABLE %[1]s ADD COLUMN %[2]s %[3]s;\nUPDATE %[1]s SET %[2]s = %[4]s;\n", op.Table, op.Column, op.Type, op.To)
	if op.NotNull {
		e, v, f, cd := g.notNull(op.To)
		expand.WriteString(e)
		contract.WriteString(v)
		finish.WriteString(f)
		fmt.Fprintf(&contractDown, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL; -- shipyard:ignore set-not-null the way back is not live\n%s", op.Table, op.Column, cd)
	}
	fmt.Fprintf(&contract, "%s%sALTER TABLE %s DROP COLUMN %s;\n", drop, finish.String(), op.Table, op.Column)
	contractDown.WriteString(create)
	return parts{
		expandUpFile:     expand.String(),
		expandDownFile:   drop + fmt.Sprintf("ALTER TABLE %s DROP COLUMN IF EXISTS %s;\n", op.Table, op.To),
		contractUpFile:   contract.String(),
		contractDownFile: contractDown.String(),
	}, &Backfill{Table: op.Table, Set: fmt.Sprintf("%s = %s", op.To, op.Column), Where: fmt.Sprintf("%s IS DISTINCT FROM %s", op.To, op.Column)}, nil
}

// changeType: both services keep writing the column; a new column of the new type follows it through a
// trigger and the backfill, and contract swaps the two in one short transaction.
func (g pgGen) changeType() (parts, *Backfill, error) {
	op := g.op
	tmp := ident(op.Column, "shipyard_new")
	up := op.Up
	if up == "" {
		up = op.Column
	}
	create, drop := g.trigger(op.Column, fmt.Sprintf("    NEW.%s := %s;", tmp, g.rowExpr(up)))
	var expand, contract, finish strings.Builder
	fmt.Fprintf(&expand, "-- %[2]s follows %[3]s in the new type until contract swaps them.\nALTER TABLE %[1]s ADD COLUMN %[2]s %[4]s;\n", op.Table, tmp, op.Column, op.Type)
	if op.Default != "" {
		fmt.Fprintf(&expand, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", op.Table, tmp, op.Default)
	}
	expand.WriteString(create)
	if op.NotNull {
		e, v, f, _ := g.notNull(tmp)
		expand.WriteString(e)
		contract.WriteString(v)
		finish.WriteString(f)
	}
	fmt.Fprintf(&contract, "%s%sALTER TABLE %[3]s DROP COLUMN %[4]s;\nALTER TABLE %[3]s RENAME COLUMN %[5]s TO %[4]s;\n", drop, finish.String(), op.Table, op.Column, tmp)
	p := parts{
		expandUpFile:   expand.String(),
		expandDownFile: drop + fmt.Sprintf("ALTER TABLE %s DROP COLUMN IF EXISTS %s;\n", op.Table, tmp),
		contractUpFile: contract.String(),
	}
	return p, &Backfill{Table: op.Table, Set: fmt.Sprintf("%s = %s", tmp, up), Where: fmt.Sprintf("%s IS NULL AND %s IS NOT NULL", tmp, op.Column)}, nil
}

// foreignKey: NOT VALID at expand (a short lock, no scan), validated at contract (a scan that lets
// writes go on).
func (g pgGen) foreignKey() (parts, *Backfill, error) {
	op := g.op
	name := op.Name
	if name == "" {
		name = ident(g.table(), op.Column, "fkey")
	}
	onDelete := ""
	if op.OnDelete != "" {
		onDelete = " ON DELETE " + strings.ToUpper(op.OnDelete)
	}
	return parts{
		expandUpFile:     fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s%s NOT VALID;\n", op.Table, name, op.Column, op.References, onDelete),
		expandDownFile:   fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s;\n", op.Table, name),
		contractUpFile:   fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;\n", op.Table, name),
		contractDownFile: "-- A validated constraint stays as it is: expand.down.sql drops it.\n",
	}, nil, nil
}

// index: built CONCURRENTLY at expand; add_unique then makes it the table's unique constraint at
// contract, which takes the index as it is.
func (g pgGen) index() (parts, *Backfill, error) {
	op := g.op
	unique, suffix := "", "idx"
	if op.Op == "add_unique" {
		unique, suffix = "UNIQUE ", "key"
	}
	name := op.Name
	if name == "" {
		name = ident(append(append([]string{g.table()}, op.Columns...), suffix)...)
	}
	create := fmt.Sprintf("CREATE %sINDEX CONCURRENTLY IF NOT EXISTS %s ON %s (%s);\n", unique, name, op.Table, strings.Join(op.Columns, ", "))
	p := parts{
		expandUpFile:   create,
		expandDownFile: fmt.Sprintf("DROP INDEX CONCURRENTLY IF EXISTS %s%s;\n", g.schema(), name),
	}
	if op.Op == "add_unique" {
		p[contractUpFile] = fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s;\n", op.Table, name, name)
		p[contractDownFile] = fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s;\n%s", op.Table, name, create)
	}
	return p, nil, nil
}
