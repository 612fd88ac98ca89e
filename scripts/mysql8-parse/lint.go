// What the TiDB parser accepts but MySQL 8 refuses, or treats differently enough that
// the schema or a query would not mean the same thing on both servers: MariaDB
// extensions (IF [NOT] EXISTS on indexes and columns, sequences, MariaDB-only
// functions and table options), TiDB extensions, and portable-looking constructs with
// different meanings (JSON columns, literal defaults on BLOB/TEXT, utf8/utf8mb3,
// collations only one of the servers has).
package main

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"
)

// Character sets and collations that MariaDB 10.11 and MySQL 8 both have, with the
// same meaning. utf8mb4_0900_* (MySQL 8's default) is unknown to MariaDB 10.11;
// utf8mb4_uca1400_* and *_nopad_* are MariaDB's; utf8/utf8mb3 is deprecated in MySQL 8.
var portableCharsets = set("utf8mb4", "binary", "ascii", "latin1")
var portableCollations = set("utf8mb4_bin", "utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_unicode_520_ci",
	"binary", "ascii_bin", "ascii_general_ci", "latin1_bin", "latin1_swedish_ci", "latin1_general_ci")

// Functions MySQL 8 does not have: MariaDB-only (sequences, Oracle-compatibility,
// dynamic columns, JSON extras) or removed in MySQL 8.0.
var foreignFunctions = map[string]string{
	"nextval": "MariaDB sequences", "lastval": "MariaDB sequences", "setval": "MariaDB sequences",
	"nvl": "MariaDB-only", "nvl2": "MariaDB-only", "sys_guid": "MariaDB-only", "add_months": "MariaDB-only",
	"to_char": "MariaDB-only", "chr": "MariaDB-only", "sformat": "MariaDB-only", "natural_sort_key": "MariaDB-only",
	"decode_oracle": "MariaDB-only", "lengthb": "MariaDB-only", "json_detailed": "MariaDB-only",
	"json_compact": "MariaDB-only", "json_loose": "MariaDB-only", "json_exists": "MariaDB-only",
	"json_query": "MariaDB-only", "json_equals": "MariaDB-only", "json_normalize": "MariaDB-only",
	"column_create": "MariaDB dynamic columns", "column_get": "MariaDB dynamic columns",
	"column_add": "MariaDB dynamic columns", "column_delete": "MariaDB dynamic columns",
	"column_exists": "MariaDB dynamic columns", "column_list": "MariaDB dynamic columns",
	"column_check": "MariaDB dynamic columns", "column_json": "MariaDB dynamic columns",
	"password": "removed in MySQL 8.0", "old_password": "removed in MySQL 8.0", "encrypt": "removed in MySQL 8.0",
	"encode": "removed in MySQL 8.0", "decode": "removed in MySQL 8.0", "des_encrypt": "removed in MySQL 8.0",
	"des_decrypt": "removed in MySQL 8.0",
}

// TiDB and MariaDB table options MySQL 8 does not parse.
var foreignTableOptions = map[ast.TableOptionType]string{
	ast.TableOptionAutoIdCache: "AUTO_ID_CACHE (TiDB)", ast.TableOptionAutoRandomBase: "AUTO_RANDOM_BASE (TiDB)",
	ast.TableOptionShardRowID: "SHARD_ROW_ID_BITS (TiDB)", ast.TableOptionPreSplitRegion: "PRE_SPLIT_REGIONS (TiDB)",
	ast.TableOptionTTL: "TTL (TiDB)", ast.TableOptionTTLEnable: "TTL_ENABLE (TiDB)",
	ast.TableOptionTTLJobInterval: "TTL_JOB_INTERVAL (TiDB)", ast.TableOptionPlacementPolicy: "PLACEMENT POLICY (TiDB)",
	ast.TableOptionStatsBuckets: "STATS_BUCKETS (TiDB)", ast.TableOptionStatsTopN: "STATS_TOPN (TiDB)",
	ast.TableOptionStatsColsChoice: "STATS_COL_CHOICE (TiDB)", ast.TableOptionStatsColList: "STATS_COL_LIST (TiDB)",
	ast.TableOptionStatsSampleRate: "STATS_SAMPLE_RATE (TiDB)", ast.TableOptionAffinity: "AFFINITY (TiDB)",
	ast.TableOptionPageChecksum: "PAGE_CHECKSUM (MariaDB)", ast.TableOptionPageCompressed: "PAGE_COMPRESSED (MariaDB)",
	ast.TableOptionPageCompressionLevel: "PAGE_COMPRESSION_LEVEL (MariaDB)", ast.TableOptionTransactional: "TRANSACTIONAL (MariaDB)",
	ast.TableOptionIetfQuotes: "IETF_QUOTES (MariaDB)", ast.TableOptionSequence: "SEQUENCE (MariaDB)",
}

type lintResult struct {
	problems []string
	notes    []string
	// identifiers holds every name the statement gives or refers to (lower case).
	identifiers map[string]bool
}

type linter struct{ lintResult }

func lint(st ast.StmtNode) lintResult {
	l := &linter{lintResult{identifiers: map[string]bool{}}}
	st.Accept(l)
	return l.lintResult
}

func (l *linter) fail(format string, args ...any) {
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}
func (l *linter) note(format string, args ...any) {
	l.notes = append(l.notes, fmt.Sprintf(format, args...))
}
func (l *linter) name(names ...string) {
	for _, n := range names {
		if n != "" {
			l.identifiers[strings.ToLower(n)] = true
		}
	}
}

func (l *linter) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (l *linter) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.CreateTableStmt:
		l.tableOptions(x.Options)
		for _, c := range x.Constraints {
			l.constraint(c)
		}
	case *ast.AlterTableStmt:
		for _, s := range x.Specs {
			if s.IfExists || s.IfNotExists {
				l.fail("ALTER TABLE … IF [NOT] EXISTS is MariaDB syntax; MySQL 8 refuses it (write a new migration that runs once instead)")
			}
			l.tableOptions(s.Options)
			if s.Constraint != nil {
				l.constraint(s.Constraint)
			}
			l.name(s.Name)
		}
	case *ast.CreateIndexStmt:
		if x.IfNotExists {
			l.fail("CREATE INDEX IF NOT EXISTS is MariaDB syntax; MySQL 8 refuses it")
		}
		l.name(x.IndexName)
	case *ast.DropIndexStmt:
		if x.IfExists {
			l.fail("DROP INDEX IF EXISTS is MariaDB syntax; MySQL 8 refuses it")
		}
		l.name(x.IndexName)
	case *ast.CreateSequenceStmt, *ast.DropSequenceStmt, *ast.AlterSequenceStmt:
		l.fail("sequences are MariaDB/TiDB objects; MySQL 8 has none")
	case *ast.CreateDatabaseStmt:
		for _, o := range x.Options {
			l.charsetOption(o.Tp == ast.DatabaseOptionCharset, o.Tp == ast.DatabaseOptionCollate, o.Value)
		}
		l.name(x.Name.O)
	case *ast.ColumnDef:
		l.column(x)
	case *ast.ColumnName:
		l.name(x.Name.O)
	case *ast.TableName:
		l.name(x.Name.O)
	case *ast.TableSource:
		l.name(x.AsName.O)
	case *ast.SelectField:
		l.name(x.AsName.O)
	case *ast.FuncCallExpr:
		fn := x.FnName.L
		if why, ok := foreignFunctions[fn]; ok {
			l.fail("%s(): %s, not in MySQL 8", strings.ToUpper(fn), why)
		} else if strings.HasPrefix(fn, "tidb_") {
			l.fail("%s(): TiDB-only function", strings.ToUpper(fn))
		}
	case *ast.PatternInExpr:
		if sub, ok := x.Sel.(*ast.SubqueryExpr); ok && hasLimit(sub.Query) {
			l.fail("IN (SELECT … LIMIT …): MySQL 8 (and MariaDB) refuse LIMIT in an IN subquery; wrap it in a derived table")
		}
	case *ast.CompareSubqueryExpr:
		if sub, ok := x.R.(*ast.SubqueryExpr); ok && hasLimit(sub.Query) {
			l.fail("ANY/ALL (SELECT … LIMIT …): MySQL 8 refuses LIMIT in such a subquery")
		}
	case *ast.SelectStmt:
		if x.LockInfo != nil && x.LockInfo.LockType == ast.SelectLockForUpdateWaitN {
			l.fail("FOR UPDATE WAIT n is MariaDB/TiDB syntax; MySQL 8 has NOWAIT and SKIP LOCKED only")
		}
	case *ast.InsertStmt:
		for _, a := range x.OnDuplicate {
			if hasValuesFunc(a.Expr) {
				l.note("ON DUPLICATE KEY UPDATE … VALUES(col): deprecated since MySQL 8.0.20 (a warning, still works in 8.0 and 8.4); the row-alias replacement is not MariaDB syntax, so it stays")
				break
			}
		}
	}
	return n, false
}

func (l *linter) column(c *ast.ColumnDef) {
	l.name(c.Name.Name.O)
	tp := c.Tp
	if tp != nil {
		switch tp.GetType() {
		case mysql.TypeJSON:
			l.fail("column %s: JSON is a binary type in MySQL 8 but a LONGTEXT alias in MariaDB (comparison, ordering, defaults and stored bytes differ); use TEXT", c.Name.Name.O)
		case mysql.TypeTiDBVectorFloat32:
			l.fail("column %s: VECTOR is not a MySQL 8 type", c.Name.Name.O)
		}
		l.charsetOption(tp.GetCharset() != "", false, tp.GetCharset())
		l.charsetOption(false, tp.GetCollate() != "", tp.GetCollate())
	}
	for _, o := range c.Options {
		switch o.Tp {
		case ast.ColumnOptionDefaultValue:
			if tp != nil && noLiteralDefault(tp) && !isNull(o.Expr) {
				l.fail("column %s: MySQL 8 allows a BLOB/TEXT/JSON/GEOMETRY default only as an expression in parentheses (8.0.13+); keep such columns without a default, or NULL", c.Name.Name.O)
			}
		case ast.ColumnOptionAutoRandom:
			l.fail("column %s: AUTO_RANDOM is TiDB-only", c.Name.Name.O)
		case ast.ColumnOptionCollate:
			l.charsetOption(false, true, o.StrValue)
		case ast.ColumnOptionPrimaryKey:
			if o.PrimaryKeyTp != 0 {
				l.fail("column %s: [NON]CLUSTERED primary keys are TiDB syntax", c.Name.Name.O)
			}
		case ast.ColumnOptionCheck:
			l.note("CHECK constraints are enforced from MySQL 8.0.16 on (parsed and ignored before)")
		}
	}
}

func (l *linter) constraint(c *ast.Constraint) {
	l.name(c.Name)
	if c.IfNotExists {
		l.fail("ADD {INDEX|KEY|CONSTRAINT} IF NOT EXISTS is MariaDB syntax; MySQL 8 refuses it")
	}
	if c.Option != nil {
		if c.Option.PrimaryKeyTp != 0 {
			l.fail("[NON]CLUSTERED primary keys are TiDB syntax")
		}
		if c.Option.Global {
			l.fail("GLOBAL indexes are TiDB syntax")
		}
	}
	if c.Tp == ast.ConstraintCheck {
		l.note("CHECK constraints are enforced from MySQL 8.0.16 on (parsed and ignored before)")
	}
}

func (l *linter) tableOptions(opts []*ast.TableOption) {
	for _, o := range opts {
		if why, ok := foreignTableOptions[o.Tp]; ok {
			l.fail("table option %s is not MySQL 8 syntax", why)
		}
		switch o.Tp {
		case ast.TableOptionEngine:
			if o.StrValue != "" && !strings.EqualFold(o.StrValue, "InnoDB") {
				l.fail("ENGINE=%s: only InnoDB behaves the same on MariaDB and MySQL 8", o.StrValue)
			}
		case ast.TableOptionCharset:
			l.charsetOption(true, false, o.StrValue)
		case ast.TableOptionCollate:
			l.charsetOption(false, true, o.StrValue)
		}
	}
}

func (l *linter) charsetOption(isCharset, isCollation bool, value string) {
	v := strings.ToLower(value)
	switch {
	case isCharset && v != "" && !portableCharsets[v]:
		l.fail("character set %s: use utf8mb4 (utf8/utf8mb3 is deprecated in MySQL 8; others are not checked for portability)", value)
	case isCollation && v != "" && !portableCollations[v]:
		l.fail("collation %s is not known to both MariaDB 10.11 and MySQL 8; use utf8mb4_bin, utf8mb4_unicode_ci or utf8mb4_general_ci", value)
	}
}

func noLiteralDefault(tp *types.FieldType) bool {
	switch tp.GetType() {
	case mysql.TypeTinyBlob, mysql.TypeBlob, mysql.TypeMediumBlob, mysql.TypeLongBlob, mysql.TypeJSON, mysql.TypeGeometry:
		return true
	}
	return false
}

func isNull(e ast.ExprNode) bool {
	v, ok := e.(ast.ValueExpr)
	return ok && v.GetValue() == nil
}

func hasLimit(rs ast.ResultSetNode) bool {
	switch q := rs.(type) {
	case *ast.SelectStmt:
		return q.Limit != nil
	case *ast.SetOprStmt:
		return q.Limit != nil
	}
	return false
}

// hasValuesFunc reports a VALUES(col) reference anywhere in an expression.
func hasValuesFunc(e ast.ExprNode) bool {
	f := &valuesFinder{}
	e.Accept(f)
	return f.found
}

type valuesFinder struct{ found bool }

func (f *valuesFinder) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.ValuesExpr); ok {
		f.found = true
	}
	return n, f.found
}
func (f *valuesFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func set(items ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range items {
		m[s] = true
	}
	return m
}
