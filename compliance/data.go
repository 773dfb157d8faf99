package compliance

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zk-monitor/zk_monitor/config"
)

// maxQuoted is how many characters of a node's data a message quotes.
const maxQuoted = 64

// checkData returns why data fails the check, or "" when it passes.
func checkData(d config.DataCheck, data []byte) string {
	if d.Regex != nil {
		if d.Regex.Match(data) {
			return ""
		}
		return "Data does not match regex /" + d.Regex.String() + "/"
	}
	v, err := decodeJSON(data)
	if err != nil {
		return "Data is not JSON: " + err.Error()
	}
	field, ok := lookupField(v, d.JSONField)
	if !ok {
		return "Data has no field " + d.JSONField
	}
	got := render(field)
	if got == d.Equals {
		return ""
	}
	return "Data field " + d.JSONField + " is " + quote(got) + ", expected " + quote(d.Equals)
}

// decodeJSON parses data as exactly one JSON value, keeping numbers as
// they were written.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no data")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the top-level value")
	}
	return v, nil
}

// lookupField follows a dotted field path through objects; a segment that
// is a non-negative integer also indexes an array.
func lookupField(v any, field string) (any, bool) {
	for name := range strings.SplitSeq(field, ".") {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[name]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(name)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// render shows a JSON value as config.DataCheck.Equals is written: strings
// as they are, everything else in compact JSON form (numbers as written).
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "<unrenderable>"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// quote quotes a value for a message, cut to maxQuoted characters.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:maxQuoted])) + "..."
}
