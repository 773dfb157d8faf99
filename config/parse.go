package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Keys accepted at each level, in the order they are suggested.
var (
	specKeys = []string{"children", "max_children", "children_matching", "exists", "ephemeral", "data", "min_data_bytes", "max_data_bytes",
		"max_age", "cancel_timeout", "for", "alerter", "labels", "severity", "summary", "runbook_url"}
	alerterKeys = []string{"email", "slack", "hipchat"}
	slackKeys   = []string{"channel", "token", "from"}
	hipchatKeys = []string{"room", "token", "from"}
	dataKeys    = []string{"regex", "json_field", "equals"}
)

// reservedLabels are the alert labels zk_monitor sets itself.
var reservedLabels = map[string]bool{
	"alertname": true, "path": true, "cluster": true, "severity": true,
	"email": true, "slack_channel": true, "hipchat_room": true,
}

var (
	decimalIntRE  = regexp.MustCompile(`^\+?(0|[1-9][0-9]*)$`)
	yamlErrLineRE = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)
)

const (
	// maxMergedPairs bounds the key/value pairs that YAML merge keys ("<<")
	// may contribute to one file, so that nested merges of aliases cannot
	// make parsing exponential.
	maxMergedPairs = 100000
	// maxMergeDepth bounds merges of mappings that merge other mappings.
	maxMergeDepth = 32

	tokenIgnored   = "token is ignored; configure credentials in Alertmanager"
	fromIgnored    = "from is ignored; the sender is configured in Alertmanager"
	hipChatIsGone  = "HipChat was shut down in 2019; the room is kept as the hipchat_room alert label only"
	noPathsWarning = "file has no paths; nothing to watch"
)

// parser walks one file's YAML node tree, collecting errors and warnings.
type parser struct {
	file        string
	errs        errorList
	warnings    []Warning
	mergeBudget int
}

func (p *parser) errorf(line int, path, key, format string, args ...any) {
	p.errs.add(line, path, key, format, args...)
}

func (p *parser) warn(line int, path, key, msg string) {
	p.warnings = append(p.warnings, Warning{File: p.file, Line: line, Path: path, Key: key, Message: msg})
}

// parseFile turns the file's bytes into path specs.
func (p *parser) parseFile(data []byte) []PathSpec {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := decodeNode(dec, &doc); {
	case errors.Is(err, io.EOF):
		p.warn(0, "", "", noPathsWarning)
		return nil
	case err != nil:
		p.yamlError(err)
		return nil
	}
	var extra yaml.Node
	switch err := decodeNode(dec, &extra); {
	case err == nil:
		p.errorf(extra.Line, "", "", "the file must hold a single YAML document")
		return nil
	case !errors.Is(err, io.EOF):
		p.yamlError(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.warn(0, "", "", noPathsWarning)
		return nil
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		p.warn(root.Line, "", "", noPathsWarning)
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "", "", "the top level must be a mapping of znode paths to path specs, got %s", describe(root))
		return nil
	}
	var specs []PathSpec
	seen := map[string]int{}
	for _, kv := range p.pairs(root, "", "", 0) {
		k := kv.key
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "", "", "top-level keys must be znode paths, got %s", describe(k))
			continue
		}
		path := k.Value
		if !strings.HasPrefix(path, "/") {
			p.errorf(k.Line, "", "", "top-level key %s is not an absolute znode path", quoteValue(path))
			continue
		}
		if err := validatePattern(path); err != nil {
			p.errorf(k.Line, "", "", "invalid znode path %s: %v", quoteValue(path), err)
			continue
		}
		if first, dup := seen[path]; dup {
			p.errorf(k.Line, path, "", "duplicate path (first defined on line %d)", first)
			continue
		}
		seen[path] = k.Line
		if spec, ok := p.pathSpec(path, k.Line, kv.value); ok {
			specs = append(specs, spec)
		}
	}
	if len(specs) == 0 && len(p.errs.errs) == 0 {
		p.warn(root.Line, "", "", noPathsWarning)
	}
	return specs
}

// decodeNode decodes the next document, turning a panic inside the YAML
// library into an error: Parse must never panic, whatever the input.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// yamlError records a YAML syntax error, moving the line the library puts in
// its message into Error.Line.
func (p *parser) yamlError(err error) {
	msg := err.Error()
	if m := yamlErrLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errorf(line, "", "", "invalid YAML: %s", m[2])
		return
	}
	p.errorf(0, "", "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// pair is one key and value of a mapping, with aliases resolved.
type pair struct {
	key, value *yaml.Node
}

// pairs lists a mapping's entries: its own keys first, then those merged in
// with "<<" that it does not set itself. Duplicate keys are reported here;
// path and prefix name the place in messages (an empty path means the top
// level, where the keys are paths).
func (p *parser) pairs(m *yaml.Node, path, prefix string, depth int) []pair {
	var out []pair
	var merges []*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if isNull(v) && v.LineComment == "" {
			// `channel: #ops` is a null value with a comment, which the
			// YAML library hangs on the key; move it so text can explain.
			v.LineComment = k.LineComment
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind == yaml.ScalarNode {
			if first, dup := seen[k.Value]; dup {
				if depth == 0 {
					if path == "" && prefix == "" {
						// Top level: reported by parseFile, which knows paths.
						out = append(out, pair{k, v})
						continue
					}
					p.errorf(k.Line, path, prefix+displayName(k.Value), "duplicate key (first defined on line %d)", first)
				}
				continue
			}
			seen[k.Value] = k.Line
		}
		out = append(out, pair{k, v})
	}
	for _, src := range merges {
		var sources []*yaml.Node
		switch src.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{src}
		case yaml.SequenceNode:
			for _, s := range src.Content {
				sources = append(sources, resolve(s))
			}
		default:
			sources = []*yaml.Node{src}
		}
		for _, s := range sources {
			if s.Kind != yaml.MappingNode {
				p.errorf(src.Line, path, strings.TrimSuffix(prefix, "."), "a merge key (<<) needs a mapping or a list of mappings, got %s", describe(s))
				continue
			}
			if depth >= maxMergeDepth {
				p.errorf(src.Line, path, strings.TrimSuffix(prefix, "."), "merge keys (<<) are nested too deeply")
				return out
			}
			for _, kv := range p.pairs(s, path, prefix, depth+1) {
				if p.mergeBudget--; p.mergeBudget < 0 {
					if p.mergeBudget == -1 {
						p.errorf(src.Line, path, strings.TrimSuffix(prefix, "."), "merge keys (<<) expand to too many entries")
					}
					return out
				}
				if kv.key.Kind == yaml.ScalarNode {
					if _, dup := seen[kv.key.Value]; dup {
						continue
					}
					seen[kv.key.Value] = kv.key.Line
				}
				out = append(out, kv)
			}
		}
	}
	return out
}

// section is a mapping inside a path spec ("alerter", "alerter.slack", "data").
type section struct {
	p      *parser
	path   string
	prefix string // dotted key of the section followed by ".", or "" at the spec's level
	known  []string
}

// each calls fn for every known key of mapping m, reporting unknown and
// non-string keys. It returns false when there were such keys: a missing
// required key is then most likely misspelt, and not worth a second error.
func (s section) each(m *yaml.Node, fn func(name string, key, value *yaml.Node)) bool {
	clean := true
	for _, kv := range s.p.pairs(m, s.path, s.prefix, 0) {
		if kv.key.Kind != yaml.ScalarNode {
			s.p.errorf(kv.key.Line, s.path, strings.TrimSuffix(s.prefix, "."), "keys must be strings, got %s", describe(kv.key))
			clean = false
			continue
		}
		name := kv.key.Value
		if !slices.Contains(s.known, name) {
			s.p.errorf(kv.key.Line, s.path, s.prefix+displayName(name), "unknown key%s", suggest(name, s.known))
			clean = false
			continue
		}
		fn(name, kv.key, kv.value)
	}
	return clean
}

// pathSpec parses the spec of one path.
func (p *parser) pathSpec(path string, line int, n *yaml.Node) (PathSpec, bool) {
	spec := PathSpec{Path: path, Line: line}
	if isNull(n) {
		return spec, true
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(line, path, "", "a path spec must be a mapping of keys (children, alerter, ...), got %s", describe(n))
		return spec, false
	}
	errsBefore := len(p.errs.errs)
	var minLine, maxLine, matchingLine, minBytesLine, maxBytesLine, timeoutLine, forLine int
	s := section{p: p, path: path, known: specKeys}
	s.each(n, func(name string, k, v *yaml.Node) {
		switch name {
		case "children":
			spec.MinChildren = p.count(path, name, v)
			minLine = k.Line
		case "max_children":
			spec.MaxChildren = p.count(path, name, v)
			maxLine = k.Line
		case "children_matching":
			spec.ChildrenMatching = p.regex(path, name, v)
			matchingLine = k.Line
		case "exists":
			spec.Exists = p.boolean(path, name, v)
		case "ephemeral":
			spec.Ephemeral = p.boolean(path, name, v)
		case "min_data_bytes":
			spec.MinDataBytes = p.count(path, name, v)
			minBytesLine = k.Line
		case "max_data_bytes":
			spec.MaxDataBytes = p.count(path, name, v)
			maxBytesLine = k.Line
		case "max_age":
			spec.MaxAge = p.positiveDuration(path, name, v)
		case "data":
			spec.Data = p.dataCheck(path, k.Line, v)
		case "cancel_timeout":
			spec.CancelTimeout = p.duration(path, name, v)
			timeoutLine = k.Line
		case "for":
			d := p.duration(path, name, v)
			forLine = k.Line
			if timeoutLine == 0 {
				spec.CancelTimeout = d
			}
		case "alerter":
			spec.Alerter = p.alerter(path, v)
		case "labels":
			spec.Labels = p.labels(path, v)
		case "severity":
			spec.Severity, _ = p.text(path, name, v, false)
		case "summary":
			spec.Summary, _ = p.text(path, name, v, false)
		case "runbook_url":
			spec.RunbookURL = p.runbookURL(path, v)
		}
	})
	if timeoutLine != 0 && forLine != 0 {
		key := "for"
		if timeoutLine > forLine {
			key = "cancel_timeout"
		}
		p.errorf(max(timeoutLine, forLine), path, key, "cancel_timeout and for are the same setting; set only one")
	}
	if spec.MinChildren != nil && spec.MaxChildren != nil && *spec.MaxChildren < *spec.MinChildren {
		p.errorf(max(minLine, maxLine), path, "max_children", "max_children (%d) is less than children (%d)", *spec.MaxChildren, *spec.MinChildren)
	}
	if spec.MinDataBytes != nil && spec.MaxDataBytes != nil && *spec.MaxDataBytes < *spec.MinDataBytes {
		p.errorf(max(minBytesLine, maxBytesLine), path, "max_data_bytes", "max_data_bytes (%d) is less than min_data_bytes (%d)", *spec.MaxDataBytes, *spec.MinDataBytes)
	}
	if matchingLine != 0 && minLine == 0 && maxLine == 0 {
		p.errorf(matchingLine, path, "children_matching", "needs children or max_children: it only says which children they count")
	}
	return spec, len(p.errs.errs) == errsBefore
}

// count parses a non-negative decimal integer.
func (p *parser) count(path, key string, n *yaml.Node) *int {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" && decimalIntRE.MatchString(n.Value) {
		if v, err := strconv.Atoi(strings.TrimPrefix(n.Value, "+")); err == nil {
			return &v
		}
	}
	p.errorf(n.Line, path, key, "must be a non-negative integer, got %s", describe(n))
	return nil
}

// boolean parses true or false.
func (p *parser) boolean(path, key string, n *yaml.Node) *bool {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return &b
		}
	}
	p.errorf(n.Line, path, key, "must be true or false, got %s", describe(n))
	return nil
}

// text parses a scalar as text. Any scalar but null is accepted, as written
// (so `room: 1234` is the text "1234"). Empty text is an error unless
// allowEmpty.
func (p *parser) text(path, key string, n *yaml.Node, allowEmpty bool) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		hint := ""
		if isNull(n) && strings.HasPrefix(strings.TrimSpace(n.LineComment), "#") {
			hint = ` (a value starting with "#" must be quoted)`
		}
		p.errorf(n.Line, path, key, "must be a string, got %s%s", describe(n), hint)
		return "", false
	}
	if !utf8.ValidString(n.Value) {
		p.errorf(n.Line, path, key, "must be valid UTF-8")
		return "", false
	}
	if n.Value == "" && !allowEmpty {
		p.errorf(n.Line, path, key, "must not be empty")
		return "", false
	}
	return n.Value, true
}

// secret checks that an ignored credential is a scalar, without ever
// quoting its value.
func (p *parser) secret(path, key string, n *yaml.Node) {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, path, key, "must be a string, got %s", describe(n))
	}
}

// duration parses seconds (an integer or a float, as the original's
// cancel_timeout) or a Go duration string ("30s", "1m30s").
func (p *parser) duration(path, key string, n *yaml.Node) time.Duration {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int", "!!float":
			var secs float64
			if err := n.Decode(&secs); err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
				break
			}
			if secs < 0 {
				p.errorf(n.Line, path, key, "must not be negative, got %s", describe(n))
				return 0
			}
			ns := math.Round(secs * float64(time.Second))
			if ns >= math.MaxInt64 {
				p.errorf(n.Line, path, key, "is too long, got %s", describe(n))
				return 0
			}
			return time.Duration(ns)
		case "!!str":
			d, err := time.ParseDuration(n.Value)
			if err != nil {
				break
			}
			if d < 0 {
				p.errorf(n.Line, path, key, "must not be negative, got %s", describe(n))
				return 0
			}
			return d
		}
	}
	p.errorf(n.Line, path, key, `must be a number of seconds or a duration such as "30s", got %s`, describe(n))
	return 0
}

// positiveDuration parses a duration as duration does, refusing zero.
func (p *parser) positiveDuration(path, key string, n *yaml.Node) time.Duration {
	errsBefore := len(p.errs.errs)
	d := p.duration(path, key, n)
	if d == 0 && len(p.errs.errs) == errsBefore {
		p.errorf(n.Line, path, key, "must be positive, got %s", describe(n))
	}
	return d
}

// regex parses a non-empty regular expression (RE2 syntax).
func (p *parser) regex(path, key string, n *yaml.Node) *regexp.Regexp {
	src, ok := p.text(path, key, n, false)
	if !ok {
		return nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		var serr *syntax.Error
		if errors.As(err, &serr) {
			p.errorf(n.Line, path, key, "invalid regex %s: %s", quoteValue(src), serr.Code)
		} else {
			p.errorf(n.Line, path, key, "invalid regex %s", quoteValue(src))
		}
		return nil
	}
	return re
}

// dataCheck parses `data`, whose key is on line.
func (p *parser) dataCheck(path string, line int, n *yaml.Node) *DataCheck {
	if n.Kind != yaml.MappingNode {
		p.errorf(line, path, "data", "must be a mapping with regex, or json_field and equals, got %s", describe(n))
		return nil
	}
	var d DataCheck
	var hasRegex, hasField, hasEquals bool
	ok := true // every key that is present is valid
	s := section{p: p, path: path, prefix: "data.", known: dataKeys}
	clean := s.each(n, func(name string, k, v *yaml.Node) {
		switch name {
		case "regex":
			hasRegex = true
			d.Regex = p.regex(path, "data.regex", v)
			if d.Regex == nil {
				ok = false
			}
		case "json_field":
			hasField = true
			field, valid := p.text(path, "data.json_field", v, false)
			if !valid {
				ok = false
				return
			}
			if slices.Contains(strings.Split(field, "."), "") {
				ok = false
				p.errorf(v.Line, path, "data.json_field", "must be field names separated by dots, got %s", describe(v))
				return
			}
			d.JSONField = field
		case "equals":
			hasEquals = true
			eq, valid := p.text(path, "data.equals", v, true)
			if !valid {
				ok = false
				return
			}
			d.Equals = eq
		}
	})
	switch {
	case !clean:
	case hasRegex && (hasField || hasEquals):
		p.errorf(line, path, "data", "set either regex, or json_field and equals, not both")
	case hasField && !hasEquals:
		p.errorf(line, path, "data", "json_field needs equals")
	case hasEquals && !hasField:
		p.errorf(line, path, "data", "equals needs json_field")
	case !hasRegex && !hasField:
		p.errorf(line, path, "data", "must set regex, or json_field and equals")
	default:
		if ok {
			return &d
		}
	}
	return nil
}

// alerter parses `alerter`. A null alerter is the same as none.
func (p *parser) alerter(path string, n *yaml.Node) Alerter {
	var a Alerter
	if isNull(n) {
		return a
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "alerter", "must be a mapping (email, slack, hipchat), got %s", describe(n))
		return a
	}
	s := section{p: p, path: path, prefix: "alerter.", known: alerterKeys}
	s.each(n, func(name string, k, v *yaml.Node) {
		switch name {
		case "email":
			a.Email = p.emails(path, v)
		case "slack":
			a.SlackChannel = p.chat(path, "alerter.slack", "channel", slackKeys, k.Line, v)
		case "hipchat":
			p.warn(k.Line, path, "alerter.hipchat", hipChatIsGone)
			a.HipChatRoom = p.chat(path, "alerter.hipchat", "room", hipchatKeys, k.Line, v)
		}
	})
	return a
}

// chat parses a `slack` or `hipchat` section, whose key is on line,
// returning its destination (channel or room). Tokens and senders are
// checked and warned about but never kept.
func (p *parser) chat(path, key, dest string, known []string, line int, n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		p.errorf(line, path, key, "must be a mapping with %s, got %s", dest, describe(n))
		return ""
	}
	var value string
	var seen bool
	s := section{p: p, path: path, prefix: key + ".", known: known}
	clean := s.each(n, func(name string, k, v *yaml.Node) {
		switch name {
		case dest:
			seen = true
			value, _ = p.text(path, key+"."+name, v, false)
		case "token":
			p.secret(path, key+".token", v)
			p.warn(k.Line, path, key+".token", tokenIgnored)
		case "from":
			p.secret(path, key+".from", v)
			p.warn(k.Line, path, key+".from", fromIgnored)
		}
	})
	if !seen && clean {
		p.errorf(line, path, key, "%s is required", dest)
	}
	return value
}

// emails parses `alerter.email`: a string of addresses separated by commas
// and/or white space, or a list of addresses. Duplicates are dropped.
func (p *parser) emails(path string, n *yaml.Node) []string {
	const key = "alerter.email"
	type addr struct {
		text string
		line int
	}
	var addrs []addr
	switch n.Kind {
	case yaml.ScalarNode:
		s, ok := p.text(path, key, n, true)
		if !ok {
			return nil
		}
		for _, a := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			addrs = append(addrs, addr{a, n.Line})
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			item = resolve(item)
			s, ok := p.text(path, key, item, false)
			if !ok {
				continue
			}
			addrs = append(addrs, addr{strings.TrimSpace(s), item.Line})
		}
	default:
		p.errorf(n.Line, path, key, "must be a string or a list of strings, got %s", describe(n))
		return nil
	}
	if len(addrs) == 0 && (n.Kind == yaml.ScalarNode || len(n.Content) == 0) {
		p.errorf(n.Line, path, key, "must list at least one address")
		return nil
	}
	var out []string
	for _, a := range addrs {
		if !validEmail(a.text) {
			p.errorf(a.line, path, key, "invalid email address %s", quoteValue(a.text))
			continue
		}
		if !slices.Contains(out, a.text) {
			out = append(out, a.text)
		}
	}
	return out
}

// validEmail is a plausibility check, not RFC 5322: one "@" with text on
// both sides and no white space, control characters or commas.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// labels parses `labels`. A null mapping is the same as none.
func (p *parser) labels(path string, n *yaml.Node) map[string]string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, path, "labels", "must be a mapping of label names to values, got %s", describe(n))
		return nil
	}
	out := map[string]string{}
	for _, kv := range p.pairs(n, path, "labels.", 0) {
		k := kv.key
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, path, "labels", "label names must be strings, got %s", describe(k))
			continue
		}
		name := k.Value
		switch {
		case !model.LegacyValidation.IsValidLabelName(name):
			// Legacy names: Alertmanager 0.25 refuses UTF-8 ones.
			p.errorf(k.Line, path, "labels", "invalid label name %s: must match %s", quoteValue(name), model.LabelNameRE)
			continue
		case strings.HasPrefix(name, "__"):
			p.errorf(k.Line, path, "labels", "label name %s is reserved: names starting with __ are internal to Prometheus", quoteValue(name))
			continue
		case reservedLabels[name]:
			p.errorf(k.Line, path, "labels", "label name %s is reserved: zk_monitor sets it", quoteValue(name))
			continue
		}
		if v, ok := p.text(path, "labels."+name, kv.value, false); ok {
			out[name] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// runbookURL parses `runbook_url`.
func (p *parser) runbookURL(path string, n *yaml.Node) string {
	s, ok := p.text(path, "runbook_url", n, false)
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || (u.Opaque == "" && u.Host == "") {
		p.errorf(n.Line, path, "runbook_url", "must be an absolute URL such as https://wiki.example.com/runbook, got %s", describe(n))
		return ""
	}
	return s
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a bad value for a message: its kind for collections and
// null, the value itself (cut short) for other scalars, quoted when it is a
// string.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int", "!!float", "!!bool":
			if q := quoteValue(n.Value); q[1:len(q)-1] == n.Value {
				return n.Value
			}
		}
		return quoteValue(n.Value)
	case yaml.AliasNode:
		return "an unresolved alias"
	}
	return "nothing"
}

// suggest turns a misspelt key into " (did you mean children?)", or lists
// the keys allowed in its place.
func suggest(name string, known []string) string {
	best, bestDist := "", math.MaxInt
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist <= 2 && bestDist < len(best) {
		return " (did you mean " + best + "?)"
	}
	return "; valid keys are " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance between a and b, giving up past
// a few edits (only small distances matter for suggestions).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
