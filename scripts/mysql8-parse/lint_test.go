// Each rule catches what it is for, and the SQL this project writes passes.
package main

import (
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
)

func TestRefused(t *testing.T) {
	cases := map[string]string{
		"CREATE INDEX IF NOT EXISTS i ON t (a)":                       "CREATE INDEX IF NOT EXISTS",
		"ALTER TABLE t ADD COLUMN IF NOT EXISTS b INT":                "IF [NOT] EXISTS",
		"ALTER TABLE t DROP INDEX IF EXISTS i":                        "IF [NOT] EXISTS",
		"ALTER TABLE t ADD INDEX IF NOT EXISTS i (a)":                 "IF NOT EXISTS",
		"DROP INDEX IF EXISTS i ON t":                                 "DROP INDEX IF EXISTS",
		"CREATE SEQUENCE s":                                           "sequences",
		"SELECT NEXTVAL(s)":                                           "NEXTVAL",
		"SELECT NVL(a, 1) FROM t":                                     "NVL",
		"SELECT PASSWORD('x')":                                        "removed in MySQL 8.0",
		"CREATE TABLE t (a JSON)":                                     "JSON",
		"CREATE TABLE t (a TEXT NOT NULL DEFAULT 'x')":                "BLOB/TEXT",
		"CREATE TABLE t (a BLOB DEFAULT ('x'))":                       "BLOB/TEXT",
		"CREATE TABLE t (a INT) ENGINE=Aria":                          "ENGINE=Aria",
		"CREATE TABLE t (a INT) DEFAULT CHARSET=utf8":                 "character set utf8",
		"CREATE TABLE t (a INT) COLLATE=utf8mb4_0900_ai_ci":           "collation utf8mb4_0900_ai_ci",
		"CREATE TABLE t (a VARCHAR(3) COLLATE utf8mb4_uca1400_ai_ci)": "Unknown collation",
		"CREATE DATABASE d CHARACTER SET utf8mb3":                     "utf8/utf8mb3 is deprecated",
		"CREATE TABLE t (a BIGINT PRIMARY KEY AUTO_RANDOM)":           "AUTO_RANDOM",
		"CREATE TABLE t (a INT, PRIMARY KEY (a) CLUSTERED)":           "CLUSTERED",
		"CREATE TABLE t (a INT) SHARD_ROW_ID_BITS=4":                  "SHARD_ROW_ID_BITS",
		"SELECT a FROM t WHERE a IN (SELECT b FROM u LIMIT 3)":        "LIMIT in an IN subquery",
		"SELECT a FROM t FOR UPDATE WAIT 5":                           "WAIT n",
		"CREATE TABLE t (id INT, `system` INT, KEY k (system))":       "`system` is reserved",
		"SELECT 1 AS lead":                                            "syntax",
		"SELECT a AS purge FROM t":                                    "`purge` is reserved",
		"SELECT x.a FROM t AS qualify":                                "`qualify` is reserved",
		"SELECT a FROM t AS function":                                 "`function` is reserved",
		"INSERT INTO t (a) VALUES (1) RETURNING a":                    "syntax",
		"CREATE TABLE groups (a INT)":                                 "syntax",
		"SELECT 1 AS `rank` UNION SELECT 2 AS rank":                   "syntax",
	}
	p := parser.New()
	for sql, want := range cases {
		problems, _, _ := check(p, sql)
		if !strings.Contains(strings.Join(problems, "\n"), want) {
			t.Errorf("%s\n  want a problem containing %q, got %q", sql, want, problems)
		}
	}
}

func TestAccepted(t *testing.T) {
	cases := []string{
		"CREATE TABLE `groups` (group_id VARCHAR(128) NOT NULL, PRIMARY KEY (group_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
		"CREATE TABLE t (a TEXT NULL, b MEDIUMBLOB NOT NULL, c TEXT DEFAULT NULL) PARTITION BY KEY (a) PARTITIONS 16",
		"CREATE TABLE t (`system` INT, `rank` INT)",
		"SELECT t.rank, t.system FROM t",
		"SELECT RANK() OVER (ORDER BY a) AS r FROM t",
		"SELECT a FROM t WHERE a IN (SELECT b FROM (SELECT b FROM u LIMIT 3) x)",
		"SELECT (SELECT g.s FROM g WHERE g.id = m.id ORDER BY g.s DESC LIMIT 1) AS last_seq FROM m",
		"SELECT a FROM t WHERE b = ? FOR UPDATE SKIP LOCKED",
		"SELECT a FROM t LOCK IN SHARE MODE",
		"INSERT INTO s (id, v) VALUES (?, LAST_INSERT_ID(? + ?)) ON DUPLICATE KEY UPDATE v = LAST_INSERT_ID(GREATEST(v, ?) + ?)",
		"DELETE p FROM p LEFT JOIN m ON m.a = p.a WHERE m.a IS NULL AND (p.a, p.b) IN ((1, 2), (3, 4))",
		"SELECT GET_LOCK('x', 0) AS got",
		"SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
		"SELECT 'rank', \"system\" /* lead */ FROM t -- lag\n",
	}
	p := parser.New()
	for _, sql := range cases {
		if problems, _, _ := check(p, sql); len(problems) > 0 {
			t.Errorf("%s\n  unexpected: %q", sql, problems)
		}
	}
}

func TestValuesNote(t *testing.T) {
	_, notes, _ := check(parser.New(), "INSERT INTO t (a, b) VALUES (1, 2) ON DUPLICATE KEY UPDATE b = GREATEST(b, VALUES(b))")
	if len(notes) != 1 || !strings.Contains(notes[0], "8.0.20") {
		t.Errorf("want the VALUES() note, got %q", notes)
	}
}
