package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dockerInstr is one instruction of a Dockerfile.
type dockerInstr struct {
	op, args string
}

type parsedDockerfile struct {
	instrs          []dockerInstr
	entrypoint, cmd []string
}

// parseDockerfile reads the root Dockerfile: instructions with their
// continuation lines joined, comments dropped, and the JSON forms of
// ENTRYPOINT and CMD decoded.
func parseDockerfile(t *testing.T) parsedDockerfile {
	t.Helper()
	var d parsedDockerfile
	var cur string
	for _, line := range strings.Split(string(readFile(t, dockerfile)), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur += strings.TrimSuffix(trimmed, `\`) + " "
			continue
		}
		cur += trimmed
		if cur = strings.TrimSpace(cur); cur != "" {
			op, args, _ := strings.Cut(cur, " ")
			d.instrs = append(d.instrs, dockerInstr{strings.ToUpper(op), strings.TrimSpace(args)})
		}
		cur = ""
	}
	for _, in := range d.instrs {
		var dst *[]string
		switch in.op {
		case "ENTRYPOINT":
			dst = &d.entrypoint
		case "CMD":
			dst = &d.cmd
		default:
			continue
		}
		if err := json.Unmarshal([]byte(in.args), dst); err != nil {
			t.Fatalf("%s %s: want the JSON (exec) form: %v", in.op, in.args, err)
		}
	}
	return d
}

// TestDockerfile checks the image is built the way Prometheus builds its
// own: on quay.io/prometheus/busybox, from the binary in .build/<os>-<arch>.
func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t)
	var from []string
	copies := map[string]string{} // destination -> source
	var exposed []string
	argsAfterFrom := map[string]bool{}
	argsBeforeFrom := map[string]bool{}
	user := ""
	for _, in := range d.instrs {
		switch in.op {
		case "ARG":
			name, _, _ := strings.Cut(in.args, "=")
			if len(from) == 0 {
				argsBeforeFrom[name] = true
			} else {
				argsAfterFrom[name] = true
			}
		case "FROM":
			from = append(from, in.args)
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) != 2 {
				t.Errorf("COPY %s: want one source and one destination", in.args)
				continue
			}
			copies[f[1]] = f[0]
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		case "USER":
			user = in.args
		}
	}
	// ARGs before FROM are only visible in FROM; COPY needs them again.
	for _, a := range []string{"ARCH", "OS"} {
		if !argsBeforeFrom[a] || !argsAfterFrom[a] {
			t.Errorf("ARG %s must be declared before and after FROM", a)
		}
	}
	if len(from) != 1 || from[0] != "quay.io/prometheus/busybox-${OS}-${ARCH}:latest" {
		t.Errorf("FROM %v, want quay.io/prometheus/busybox-${OS}-${ARCH}:latest", from)
	}
	if src := copies["/bin/zk_monitor"]; src != ".build/${OS}-${ARCH}/zk_monitor" {
		t.Errorf("/bin/zk_monitor is copied from %q, want .build/${OS}-${ARCH}/zk_monitor", src)
	}
	for dst, src := range copies {
		if strings.HasPrefix(src, ".build/") {
			continue // built before docker build
		}
		if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
			t.Errorf("COPY %s %s: %v", src, dst, err)
		}
	}
	if user != "nobody" {
		t.Errorf("USER %q, want nobody", user)
	}
	if len(d.entrypoint) != 1 || d.entrypoint[0] != "/bin/zk_monitor" {
		t.Errorf("ENTRYPOINT %q, want [\"/bin/zk_monitor\"]", d.entrypoint)
	}
	if !contains(exposed, agentPort) {
		t.Errorf("EXPOSE %v lacks %s", exposed, agentPort)
	}
	if p := listenPort(d.cmd); !contains(exposed, p) {
		t.Errorf("CMD listens on %s, which is not EXPOSEd (%v)", p, exposed)
	}
	if cf, ok := flagValue(d.cmd, "config.file"); ok {
		if _, copied := copies[cf]; !copied {
			t.Errorf("CMD --config.file=%s, which no COPY puts in the image", cf)
		}
	}
}
