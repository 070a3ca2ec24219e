package migrate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Severity is how bad a lint problem is: errors fail `shipyard migrate lint`, warnings do not.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Rule is one thing lint looks for: a statement that locks or breaks a live database, and what to do
// instead.
type Rule struct {
	ID       string    `json:"id"`
	Severity Severity  `json:"severity"`
	Why      string    `json:"why"`
	Instead  string    `json:"instead"`
	Dialects []Dialect `json:"dialects,omitempty"` // the databases it applies to; none: all
	// Down: the rule also reads down files. Dropping and renaming is what a down file is for, so those
	// rules read up files only.
	Down bool `json:"-"`
}

// Problem is one statement a lint rule found.
type Problem struct {
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Rule      string   `json:"rule"`
	Severity  Severity `json:"severity"`
	Message   string   `json:"message"`
	Why       string   `json:"why"`
	Instead   string   `json:"instead"`
	Statement string   `json:"statement"`
}

// The rules.
var rules = []Rule{
	{
		ID: "create-index-non-concurrent", Severity: SeverityError, Dialects: []Dialect{Postgres}, Down: true,
		Why:     "CREATE INDEX takes a SHARE lock: every INSERT, UPDATE and DELETE on the table waits until the index is built, minutes on a big table.",
		Instead: "CREATE INDEX CONCURRENTLY, alone in a migration file of its own (it cannot run inside a transaction); if it fails, drop the INVALID index it leaves and run it again.",
	},
	{
		ID: "add-column-volatile-default", Severity: SeverityError, Dialects: []Dialect{Postgres}, Down: true,
		Why:     "A column added with a volatile default (random(), gen_random_uuid(), clock_timestamp(), a serial or a stored generated column) makes PostgreSQL rewrite the whole table under an ACCESS EXCLUSIVE lock: no reads, no writes until it is done.",
		Instead: "Add the column without a default (or with a constant one), set the default in a second statement, and fill the existing rows in batches.",
	},
	{
		ID: "add-column-not-null", Severity: SeverityError,
		Why:     "Adding a NOT NULL column without a default fails as soon as the table has a row, and the running version of the service does not write the column.",
		Instead: "Add the column with a default, or as NULL: backfill it, then make it NOT NULL once every row and every writer has a value.",
	},
	{
		ID: "set-not-null", Severity: SeverityError, Dialects: []Dialect{Postgres}, Down: true,
		Why:     "SET NOT NULL scans the whole table to check it under an ACCESS EXCLUSIVE lock: no reads, no writes until the scan ends.",
		Instead: "ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID; then, in a later migration, VALIDATE CONSTRAINT (no exclusive lock); PostgreSQL 12+ then runs SET NOT NULL without a scan, and the check can be dropped.",
	},
	{
		ID: "change-column-type", Severity: SeverityError,
		Why:     "Changing a column's type rewrites the table and its indexes under an exclusive lock in most cases, and breaks the running version of the service that reads the old type.",
		Instead: "Expand and contract: add a column of the new type, write to both (a trigger or the application), backfill, switch reads, then drop the old column in a later release.",
	},
	{
		ID: "rename-column", Severity: SeverityError,
		Why:     "The running version of the service still reads and writes the old name: every query it makes fails from the moment the migration commits until the new version is out.",
		Instead: "Add the new column, write to both, backfill, move reads to it, and drop the old one in a later release; or keep the old name.",
	},
	{
		ID: "rename-table", Severity: SeverityError,
		Why:     "The running version of the service still uses the old table name: its queries fail until the new version is out.",
		Instead: "Create the new table (or a view with the new name over the old table), move the service to it, and drop the old name in a later release.",
	},
	{
		ID: "drop-without-contract", Severity: SeverityError,
		Why:     "During a deploy the old version of the service still runs: dropping a table or column it uses breaks it, and the data cannot be brought back by the down migration.",
		Instead: "Stop using the table or column in a release first; drop it in a later migration, the contract phase of a multistage migration.",
	},
	{
		ID: "add-constraint-validates", Severity: SeverityError, Dialects: []Dialect{Postgres}, Down: true,
		Why:     "Adding a FOREIGN KEY or CHECK constraint checks every row under a lock that blocks writes (on both tables for a foreign key); a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock.",
		Instead: "Add FOREIGN KEY and CHECK constraints NOT VALID, then VALIDATE CONSTRAINT in a later migration; for UNIQUE or PRIMARY KEY, CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX.",
	},
	{
		ID: "transaction-incompatible", Severity: SeverityError, Dialects: []Dialect{Postgres}, Down: true,
		Why:     "This statement cannot run inside a transaction block, and a migration file with several statements is sent as one implicit transaction: the migration fails and leaves the database dirty.",
		Instead: "Put the statement alone in a migration file of its own.",
	},
	{
		ID: "expand-destructive", Severity: SeverityError,
		Why:     "The expand part of a live migration runs before the deploy, while the old version of the service still serves: it must only add. A drop, rename or type change there breaks the old service, and rollback cannot bring the data back.",
		Instead: "Add the new shape in expand (a new column kept in step by a trigger), and drop or rename the old one in contract.up.sql, after every instance runs the new code.",
	},
	{
		ID: "missing-down", Severity: SeverityWarning,
		Why:     "Without a down file the migration cannot be reverted: `migrate down` stops at it, and so does a rollback of the release.",
		Instead: "Write the down file, even when it only drops what the up file created; if the change truly cannot be undone, say so in a comment of the down file and fail it with an error on purpose.",
	},
	{
		ID: "unknown-ignore", Severity: SeverityWarning,
		Why:     "A shipyard:ignore comment names a rule that does not exist, so it ignores nothing: likely a typo.",
		Instead: "Use one of the rule names that the list of rules gives.",
	},
}

// breaksOldService are the rules about changes the old version of the service cannot live with.
var breaksOldService = map[string]bool{"drop-without-contract": true, "rename-column": true, "rename-table": true, "change-column-type": true}

// Rules lists the rules lint applies.
func Rules() []Rule { return slices.Clone(rules) }

func ruleByID(id string) (Rule, bool) {
	i := slices.IndexFunc(rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return Rule{}, false
	}
	return rules[i], true
}

func (r Rule) appliesTo(d Dialect) bool {
	return d == "" || len(r.Dialects) == 0 || slices.Contains(r.Dialects, d)
}

// Lint reads the migrations of src for dangerous operations on dialect ("" for any database). files
// limits it to those files (names in the directory); none means every file. The parts of live migrations
// are read knowing their phase: expand must be additive, contract may drop what the old service used.
func Lint(src *Source, dialect Dialect, files ...string) ([]Problem, error) {
	problems := []Problem{}
	for _, m := range src.Migrations {
		for _, p := range lintParts(m) {
			if p.file == "" || len(files) > 0 && !slices.Contains(files, p.file) && !slices.Contains(files, m.File()) {
				continue
			}
			body, err := src.Read(m, p.file)
			if err != nil {
				return nil, err
			}
			l := &fileLint{file: p.file, dialect: dialect, down: p.down, phase: p.phase, live: m.Live != nil,
				created: map[string]bool{}, dropped: map[string]bool{}, validated: map[string]bool{}}
			l.statements = SplitSQL(body, dialect == MySQL)
			l.run()
			if p.missingDown != "" {
				l.fileReport("missing-down", p.missingDown)
			}
			problems = append(problems, l.problems...)
		}
	}
	return problems, nil
}

// lintPart is one file of a migration, and what lint knows of it.
type lintPart struct {
	file        string
	phase       Phase // of a live migration's part
	down        bool
	missingDown string // the message when its down file is missing
}

func lintParts(m Migration) []lintPart {
	missing := func(up, down, want string) string {
		if up != "" && down == "" {
			return fmt.Sprintf("%s has no down file %s", up, want)
		}
		return ""
	}
	if m.Live == nil {
		return []lintPart{{file: m.Up, missingDown: missing(m.Up, m.Down, fmt.Sprintf("%d_%s.down.sql", m.Version, m.Name))}, {file: m.Down, down: true}}
	}
	return []lintPart{
		{file: m.Up, phase: PhaseExpand, missingDown: missing(m.Up, m.Down, expandDownFile+": rollback cannot undo the expand")},
		{file: m.Down, phase: PhaseExpand, down: true},
		{file: m.Live.ContractUp, phase: PhaseContract, missingDown: missing(m.Live.ContractUp, m.Live.ContractDown, contractDownFile)},
		{file: m.Live.ContractDown, phase: PhaseContract, down: true},
	}
}

// fileLint is the reading of one file.
type fileLint struct {
	file       string
	dialect    Dialect
	down       bool
	phase      Phase // the part of a live migration, "" for a single-phase one
	live       bool
	statements []Statement
	created    map[string]bool // tables created earlier in the file: nobody uses them yet
	dropped    map[string]bool // table.column dropped earlier in the file: a rename to it is a swap
	validated  map[string]bool // tables with a constraint validated earlier: SET NOT NULL trusts it
	problems   []Problem
}

func (l *fileLint) run() {
	for _, st := range l.statements {
		for _, id := range st.Ignore {
			if _, ok := ruleByID(id); !ok {
				l.report(st, "unknown-ignore", fmt.Sprintf("shipyard:ignore names no rule %q", id))
			}
		}
		l.statement(st)
	}
}

// report adds a finding of rule on st, unless the rule does not apply or was ignored. In a live
// migration's expand part the changes that break the old service are expand-destructive; in its contract
// part, the old service is gone and dropping what it used is the point.
func (l *fileLint) report(st Statement, id, msg string) {
	switch {
	case l.live && id == "transaction-incompatible":
		return // shipyard runs such a statement of a live part on its own
	case l.phase == PhaseContract && id == "drop-without-contract":
		return
	case l.phase == PhaseExpand && !l.down && breaksOldService[id]:
		id, msg = "expand-destructive", msg+" in an expand part"
	}
	r, _ := ruleByID(id)
	if !r.appliesTo(l.dialect) || l.down && !r.Down || slices.Contains(st.Ignore, id) {
		return
	}
	l.problems = append(l.problems, Problem{File: l.file, Line: st.Line, Rule: id, Severity: r.Severity, Message: msg, Why: r.Why, Instead: r.Instead, Statement: st.SQL})
}

// fileReport adds a finding about the whole file, on line 1; an ignore comment anywhere turns it off.
func (l *fileLint) fileReport(id, msg string) {
	st := Statement{Line: 1}
	for _, s := range l.statements {
		st.Ignore = append(st.Ignore, s.Ignore...)
	}
	l.report(st, id, msg)
}

// Identifiers, possibly schema-qualified and quoted.
const identRE = "(?:\"(?:[^\"]|\"\")+\"|`[^`]+`|[A-Za-z_][\\w$]*)"
const nameRE = "(" + identRE + "(?:\\." + identRE + ")?)"

var (
	createTableRE = regexp.MustCompile(`(?i)^CREATE (?:(?:GLOBAL |LOCAL )?(?:TEMP|TEMPORARY|UNLOGGED) )?TABLE (?:IF NOT EXISTS )?` + nameRE)
	createIndexRE = regexp.MustCompile(`(?i)^CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:` + nameRE + ` )?ON (?:ONLY )?` + nameRE)
	alterTableRE  = regexp.MustCompile(`(?i)^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?` + nameRE + `(?: \*)? (.+)$`)
	dropTableRE   = regexp.MustCompile(`(?i)^DROP TABLE (?:IF EXISTS )?(.+?)(?: CASCADE| RESTRICT)?$`)
	renameTableRE = regexp.MustCompile(`(?i)^RENAME TABLE (.+)$`)
	noTxRE        = regexp.MustCompile(`(?i)^(?:CREATE (?:UNIQUE )?INDEX CONCURRENTLY|DROP INDEX CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY|VACUUM|CREATE DATABASE|DROP DATABASE|ALTER SYSTEM|CREATE TABLESPACE|DROP TABLESPACE)\b`)

	addRE        = regexp.MustCompile(`(?i)^ADD (?:COLUMN )?(?:IF NOT EXISTS )?` + nameRE + ` (.+)$`)
	addColumnRE  = regexp.MustCompile(`(?i)^ADD COLUMN `)
	constraintRE = regexp.MustCompile(`(?i)^ADD (?:CONSTRAINT ` + identRE + ` )?(FOREIGN KEY|CHECK|UNIQUE|PRIMARY KEY|EXCLUDE)\b`)
	notNullRE    = regexp.MustCompile(`(?i)\bNOT NULL\b`)
	defaultRE    = regexp.MustCompile(`(?i)\bDEFAULT\b(.*)$`)
	volatileRE   = regexp.MustCompile(`(?i)\b(random|gen_random_uuid|uuid_generate_v[14]|uuid_generate_v1mc|clock_timestamp|timeofday|nextval|txid_current)\s*\(`)
	serialRE     = regexp.MustCompile(`(?i)^(?:small|big)?serial\b|\bGENERATED ALWAYS AS \(.*\) STORED\b`)
	setNotNullRE = regexp.MustCompile(`(?i)^ALTER (?:COLUMN )?` + nameRE + ` SET NOT NULL$`)
	alterTypeRE  = regexp.MustCompile(`(?i)^ALTER (?:COLUMN )?` + nameRE + ` (?:SET DATA )?TYPE (.+)$`)
	modifyRE     = regexp.MustCompile(`(?i)^MODIFY (?:COLUMN )?` + nameRE + ` (.+)$`)
	changeRE     = regexp.MustCompile(`(?i)^CHANGE (?:COLUMN )?` + nameRE + ` ` + nameRE + ` (.+)$`)
	renameToRE   = regexp.MustCompile(`(?i)^RENAME (?:TO|AS) ` + nameRE + `$`)
	renameColRE  = regexp.MustCompile(`(?i)^RENAME (?:COLUMN )?` + nameRE + ` TO ` + nameRE + `$`)
	usingRE      = regexp.MustCompile(`(?i) (?:USING|COLLATE) `)
	dropColRE    = regexp.MustCompile(`(?i)^DROP (?:COLUMN )?(?:IF EXISTS )?` + nameRE + `(?: CASCADE| RESTRICT)?$`)
)

// notColumns are the words after ADD, DROP or RENAME that name something other than a column.
var notColumns = map[string]bool{
	"constraint": true, "primary": true, "unique": true, "foreign": true, "check": true, "exclude": true,
	"index": true, "key": true, "fulltext": true, "spatial": true, "partition": true, "default": true,
	"not": true, "expression": true, "identity": true, "to": true, "as": true,
}

// bare is an identifier as the database compares it: unquoted, and lower-cased unless it was quoted.
func bare(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 && !strings.HasSuffix(name, `"`) {
		name = name[i+1:]
	}
	if len(name) >= 2 && (name[0] == '"' || name[0] == '`') {
		return strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
	}
	return strings.ToLower(name)
}

func (l *fileLint) statement(st Statement) {
	w := st.Words
	if m := createTableRE.FindStringSubmatch(w); m != nil {
		l.created[bare(m[1])] = true
		return
	}
	if verb := noTxRE.FindString(w); verb != "" && len(l.statements) > 1 {
		l.report(st, "transaction-incompatible", fmt.Sprintf("%s cannot run inside the transaction of a file with %d statements", strings.ToUpper(verb), len(l.statements)))
	}
	if m := createIndexRE.FindStringSubmatch(w); m != nil && m[1] == "" && !l.created[bare(m[3])] {
		l.report(st, "create-index-non-concurrent", fmt.Sprintf("CREATE INDEX on %s without CONCURRENTLY blocks writes to %s while it builds", m[3], m[3]))
	}
	if m := dropTableRE.FindStringSubmatch(w); m != nil {
		for _, t := range splitTop(m[1]) {
			if !l.created[bare(t)] {
				l.report(st, "drop-without-contract", fmt.Sprintf("DROP TABLE %s while the running service may still use it", t))
			}
		}
	}
	if m := renameTableRE.FindStringSubmatch(w); m != nil {
		for _, pair := range splitTop(m[1]) {
			l.report(st, "rename-table", fmt.Sprintf("RENAME TABLE %s", pair))
		}
	}
	if m := alterTableRE.FindStringSubmatch(w); m != nil {
		for _, action := range splitTop(m[2]) {
			l.alterAction(st, m[1], action)
		}
	}
}

// alterAction checks one action of ALTER TABLE table.
func (l *fileLint) alterAction(st Statement, table, action string) {
	isNew := l.created[bare(table)]
	if m := constraintRE.FindStringSubmatch(action); m != nil {
		kind := strings.ToUpper(m[1])
		safe := (kind == "FOREIGN KEY" || kind == "CHECK") && strings.Contains(strings.ToUpper(action), "NOT VALID") ||
			(kind == "UNIQUE" || kind == "PRIMARY KEY") && strings.Contains(strings.ToUpper(action), "USING INDEX")
		if !safe && !isNew {
			l.report(st, "add-constraint-validates", fmt.Sprintf("ADD %s on %s checks or indexes every row under a lock", kind, table))
		}
		return
	}
	if m := addRE.FindStringSubmatch(action); m != nil && (addColumnRE.MatchString(action) || !notColumns[strings.ToLower(m[1])]) {
		col, def := m[1], m[2]
		if isNew {
			return
		}
		dflt := defaultRE.FindStringSubmatch(def)
		if serialRE.MatchString(def) || dflt != nil && volatileRE.MatchString(dflt[1]) {
			l.report(st, "add-column-volatile-default", fmt.Sprintf("ADD COLUMN %s to %s with a volatile default rewrites %s", col, table, table))
		}
		if notNullRE.MatchString(def) && dflt == nil && !serialRE.MatchString(def) && !strings.Contains(strings.ToUpper(def), "GENERATED") {
			l.report(st, "add-column-not-null", fmt.Sprintf("ADD COLUMN %s NOT NULL to %s without a default", col, table))
		}
		return
	}
	if strings.HasPrefix(strings.ToUpper(action), "VALIDATE CONSTRAINT ") {
		l.validated[bare(table)] = true
		return
	}
	if m := setNotNullRE.FindStringSubmatch(action); m != nil && !isNew && !l.validated[bare(table)] {
		l.report(st, "set-not-null", fmt.Sprintf("SET NOT NULL on %s.%s scans %s under an exclusive lock", table, m[1], table))
		return
	}
	if m := alterTypeRE.FindStringSubmatch(action); m != nil && !isNew {
		newType := usingRE.Split(m[2], 2)[0]
		l.report(st, "change-column-type", fmt.Sprintf("column %s.%s changes type to %s", table, m[1], newType))
		return
	}
	if m := modifyRE.FindStringSubmatch(action); m != nil && !isNew {
		l.report(st, "change-column-type", fmt.Sprintf("MODIFY %s.%s redefines the column", table, m[1]))
		return
	}
	if m := changeRE.FindStringSubmatch(action); m != nil && !isNew {
		if bare(m[1]) != bare(m[2]) {
			l.report(st, "rename-column", fmt.Sprintf("column %s.%s is renamed to %s", table, m[1], m[2]))
		}
		l.report(st, "change-column-type", fmt.Sprintf("CHANGE %s.%s redefines the column", table, m[1]))
		return
	}
	if m := renameToRE.FindStringSubmatch(action); m != nil {
		l.report(st, "rename-table", fmt.Sprintf("table %s is renamed to %s", table, m[1]))
		return
	}
	if m := renameColRE.FindStringSubmatch(action); m != nil && !notColumns[strings.ToLower(m[1])] && !isNew && !l.dropped[bare(table)+"."+bare(m[2])] {
		l.report(st, "rename-column", fmt.Sprintf("column %s.%s is renamed to %s", table, m[1], m[2]))
		return
	}
	if m := dropColRE.FindStringSubmatch(action); m != nil && !notColumns[strings.ToLower(m[1])] && !isNew {
		l.dropped[bare(table)+"."+bare(m[1])] = true
		l.report(st, "drop-without-contract", fmt.Sprintf("DROP COLUMN %s.%s while the running service may still use it", table, m[1]))
	}
}

// splitTop splits s at the commas outside parentheses, literals and quoted identifiers.
func splitTop(s string) []string {
	var out []string
	depth, from := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[from:i]))
			from = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[from:]))
}
