package logging

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// properNouns may start a log message with a capital letter.
var properNouns = []string{"ZooKeeper", "Alertmanager", "Prometheus"}

// TestLogMessagesStartLowercase reads every non-test Go file of the module
// and checks each literal log message ("msg", "...") starts with a
// lowercase letter or a proper noun, so that the convention holds for code
// written later too.
func TestLogMessagesStartLowercase(t *testing.T) {
	root := ".." // the module root, from this package's directory
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var list []ast.Expr
			switch n := n.(type) {
			case *ast.CallExpr:
				list = n.Args
			case *ast.CompositeLit: // key/value slices built before a Log call
				list = n.Elts
			default:
				return true
			}
			for i := 0; i+1 < len(list); i += 2 {
				if s, ok := stringLit(list[i]); !ok || s != "msg" {
					continue
				}
				msg, ok := stringLit(list[i+1])
				if !ok {
					continue
				}
				checked++
				if !startsLowercase(msg) {
					t.Errorf("%s: log message %q must start lowercase or with one of %v", fset.Position(list[i+1].Pos()), msg, properNouns)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Guards the scan itself: finding no messages means it looked nowhere.
	if checked < 20 {
		t.Fatalf("found only %d log messages; is %s the module root?", checked, root)
	}
}

func TestStartsLowercase(t *testing.T) {
	cases := map[string]bool{
		"configuration reloaded":             true,
		"zk_monitor started":                 true,
		"ZooKeeper session expired":          true,
		"Alertmanager restarted":             true,
		"Error sending alerts":               false,
		"ZooKeepers":                         false,
		"Alertmanager-like":                  true,
		"":                                   false,
		"42 alerts":                          false,
		"élan":                               true,
		"Prometheus scrape failed; retrying": true,
	}
	for msg, want := range cases {
		if got := startsLowercase(msg); got != want {
			t.Errorf("startsLowercase(%q) = %v, want %v", msg, got, want)
		}
	}
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func startsLowercase(msg string) bool {
	r, _ := utf8.DecodeRuneInString(msg)
	if unicode.IsLower(r) {
		return true
	}
	word := strings.FieldsFunc(msg, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(word) == 0 {
		return false
	}
	for _, p := range properNouns {
		if word[0] == p {
			return true
		}
	}
	return false
}
