// Words MySQL 8 reserves that the TiDB parser lets through as bare identifiers. The
// TiDB parser already refuses every word it reserves itself (nearly all of MySQL's,
// GROUPS and WINDOW included), so only the gap is listed: the words TiDB's own
// comparison against a MySQL 8.0 server excludes (FUNCTION, PURGE, SYSTEM, SEPARATOR,
// DECLARE and the window-function names) and the words MySQL 8.4 added (MANUAL,
// PARALLEL, QUALIFY; TABLESAMPLE TiDB reserves already).
package main

import (
	"strings"
	"unicode"
)

var mysql8Reserved = map[string]bool{
	"CUME_DIST": true, "DECLARE": true, "DENSE_RANK": true, "FIRST_VALUE": true,
	"FUNCTION": true, "LAG": true, "LAST_VALUE": true, "LEAD": true, "MANUAL": true,
	"NTH_VALUE": true, "NTILE": true, "PARALLEL": true, "PERCENT_RANK": true,
	"PURGE": true, "QUALIFY": true, "RANK": true, "ROW_NUMBER": true,
	"SEPARATOR": true, "SYSTEM": true,
}

// bareReserved returns the reserved words that name an identifier of the statement and
// appear unquoted in its text. A word right after a period is a qualified name's part,
// which MySQL accepts reserved or not; a word followed by '(' is a function call.
func bareReserved(sql string, identifiers map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range bareWords(sql) {
		up := strings.ToUpper(w.text)
		if mysql8Reserved[up] && identifiers[strings.ToLower(w.text)] && !w.qualified && !w.call && !seen[up] {
			seen[up] = true
			out = append(out, w.text)
		}
	}
	return out
}

type word struct {
	text      string
	qualified bool
	call      bool
}

// bareWords scans the words outside quotes, back-quotes and comments.
func bareWords(s string) []word {
	var out []word
	r := []rune(s)
	prevDot := false
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(r, i)
			prevDot = false
		case c == '-' && i+2 < len(r) && r[i+1] == '-' && unicode.IsSpace(r[i+2]), c == '#':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			i += 2
			for i+1 < len(r) && !(r[i] == '*' && r[i+1] == '/') {
				i++
			}
			i += 2
		case isWordRune(c):
			j := i
			for j < len(r) && isWordRune(r[j]) {
				j++
			}
			k := j
			for k < len(r) && unicode.IsSpace(r[k]) {
				k++
			}
			out = append(out, word{text: string(r[i:j]), qualified: prevDot, call: k < len(r) && r[k] == '('})
			i = j
			prevDot = false
		default:
			if !unicode.IsSpace(c) {
				prevDot = c == '.'
			}
			i++
		}
	}
	return out
}

func skipQuoted(r []rune, i int) int {
	q := r[i]
	for i++; i < len(r); i++ {
		if r[i] == '\\' && q != '`' {
			i++
			continue
		}
		if r[i] == q {
			if i+1 < len(r) && r[i+1] == q { // doubled quote
				i++
				continue
			}
			return i + 1
		}
	}
	return i
}

func isWordRune(c rune) bool {
	return c == '_' || c == '$' || unicode.IsLetter(c) || unicode.IsDigit(c)
}
