package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is one problem found in a configuration file. File and Line locate
// it (Line is 0 when the YAML parser could not tell), Path is the znode path
// whose spec holds the problem (empty for problems outside a path spec), Key
// is the dotted key inside that spec ("alerter.slack.channel"; empty when
// the whole spec is at fault) and Msg says what is wrong.
type Error struct {
	File string
	Line int
	Path string
	Key  string
	Msg  string
}

// Error renders the problem as "file:line: path /x: key children: message",
// leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(location(e.File, e.Line))
	if e.Path != "" {
		b.WriteString("path ")
		b.WriteString(displayName(e.Path))
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString("key ")
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one configuration file, in file order.
// Parse returns it when a file has more than one problem; a file with a
// single problem yields that *Error itself.
type Errors []*Error

// Error renders each problem on its own line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is look at each problem.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// Warning is something in a configuration file that loads but deserves the
// operator's attention, such as an ignored credential.
type Warning struct {
	File    string
	Line    int
	Path    string
	Key     string
	Message string
}

// String renders the warning as "file:line: path: key: message", leaving
// out the parts that are empty.
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(location(w.File, w.Line))
	if w.Path != "" {
		b.WriteString(displayName(w.Path))
		b.WriteString(": ")
	}
	if w.Key != "" {
		b.WriteString(w.Key)
		b.WriteString(": ")
	}
	b.WriteString(w.Message)
	return b.String()
}

// location renders "file:line: ", "file: " or nothing.
func location(file string, line int) string {
	switch {
	case file != "" && line > 0:
		return file + ":" + strconv.Itoa(line) + ": "
	case file != "":
		return file + ": "
	case line > 0:
		return "line " + strconv.Itoa(line) + ": "
	}
	return ""
}

// maxShown is how many characters of a bad value a message quotes.
const maxShown = 40

// quoteValue quotes a user-supplied value for a message, cutting it to
// maxShown characters so that a huge value does not flood the log.
func quoteValue(s string) string {
	if utf8.RuneCountInString(s) <= maxShown {
		return strconv.Quote(s)
	}
	runes := []rune(s)
	return strconv.Quote(string(runes[:maxShown])) + "..."
}

// displayName shows a path or key as is when it is plain printable text,
// and quoted (and cut short) otherwise, so that control characters or
// enormous keys never reach a terminal raw.
func displayName(s string) string {
	if s == "" || utf8.RuneCountInString(s) > 200 {
		return quoteValue(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' {
			return quoteValue(s)
		}
	}
	return s
}

// errorList collects the problems of one file.
type errorList struct {
	file string
	errs Errors
}

func (l *errorList) add(line int, path, key, format string, args ...any) {
	l.errs = append(l.errs, &Error{
		File: l.file,
		Line: line,
		Path: path,
		Key:  key,
		Msg:  fmt.Sprintf(format, args...),
	})
}

// err returns nil, the single problem, or all of them.
func (l *errorList) err() error {
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	return l.errs
}
