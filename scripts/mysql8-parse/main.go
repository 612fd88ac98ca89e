// mysql8-parse: checks SQL against the MySQL 8 dialect before it ever meets a MySQL 8
// server (none runs on the development machines: they have MariaDB 10.11).
//
// Each statement is parsed with the TiDB parser (a MySQL 8 grammar), then checked for
// what that parser accepts but MySQL 8 refuses (MariaDB and TiDB extensions, see
// lint.go) and for MySQL 8 reserved words used as bare identifiers (reserved.go).
//
//	mysql8-parse FILE.sql...   every statement of each script
//	mysql8-parse -z FILE...    FILE holds single statements separated by NUL bytes
//	                           (e.g. captured from a server's general log); duplicates
//	                           and statements differing only in literals are checked once
//
// Exit status 1 when any statement fails; notes (deprecated but working syntax) do not fail.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

func main() {
	nul := flag.Bool("z", false, "inputs are NUL-separated single statements")
	quiet := flag.Bool("q", false, "print failures only")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mysql8-parse [-z] [-q] FILE...")
		os.Exit(2)
	}
	p := parser.New()
	failed, notes, checked := 0, map[string]bool{}, 0
	for _, name := range flag.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var units []string
		if *nul {
			units = distinct(p, bytes.Split(data, []byte{0}))
		} else {
			units = []string{string(data)}
		}
		for _, sql := range units {
			problems, found, n := check(p, sql)
			checked += n
			for _, msg := range problems {
				failed++
				fmt.Printf("%s: %s\n", name, msg)
			}
			for _, msg := range found {
				notes[msg] = true
			}
		}
	}
	if !*quiet {
		keys := make([]string, 0, len(notes))
		for k := range notes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Printf("note: %s\n", k)
		}
		fmt.Printf("mysql8-parse: %d statements checked, %d problems\n", checked, failed)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// distinct keeps one statement per normalized form (literals and ? markers folded).
func distinct(p *parser.Parser, raw [][]byte) []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range raw {
		s := string(bytes.TrimSpace(b))
		if s == "" {
			continue
		}
		key := parser.Normalize(s, "ON")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, s)
	}
	return out
}

// check parses one script (or one statement) and runs every rule on each statement.
func check(p *parser.Parser, sql string) (problems, notes []string, statements int) {
	stmts, _, err := p.Parse(sql, "", "")
	if err != nil {
		return []string{fmt.Sprintf("syntax: %v\n    in: %s", err, clip(sql))}, nil, 1
	}
	for _, st := range stmts {
		text := st.Text()
		if text == "" {
			text = sql
		}
		l := lint(st)
		for _, msg := range l.problems {
			problems = append(problems, fmt.Sprintf("%s\n    in: %s", msg, clip(text)))
		}
		for _, word := range bareReserved(text, l.identifiers) {
			problems = append(problems, fmt.Sprintf("`%s` is reserved in MySQL 8: back-quote it\n    in: %s", word, clip(text)))
		}
		notes = append(notes, l.notes...)
	}
	return problems, notes, len(stmts)
}

func clip(s string) string {
	s = string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
	if len(s) > 240 {
		return s[:240] + " …"
	}
	return s
}
