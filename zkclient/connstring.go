package zkclient

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/zk-monitor/zk_monitor/config"
)

// connectString is a parsed ZooKeeper connect string such as
// "zk1:2181,zk2:2181/chroot".
type connectString struct {
	Servers []string // host:port, a port defaulted to 2181
	Chroot  string   // "" or an absolute path without a trailing slash
}

// parseConnectString parses a ZooKeeper connect string the way the Java
// client does: comma-separated host[:port] entries, optionally followed by a
// chroot path that applies to every server.
func parseConnectString(s string) (connectString, error) {
	var cs connectString
	s = strings.TrimSpace(s)
	if s == "" {
		return cs, fmt.Errorf("empty ZooKeeper connect string")
	}
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, cs.Chroot = s[:i], s[i:]
		if err := config.ValidateZnodePath(cs.Chroot); err != nil {
			return cs, fmt.Errorf("chroot %q: %w", cs.Chroot, err)
		}
		if cs.Chroot == "/" {
			cs.Chroot = ""
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return cs, fmt.Errorf("connect string %q: empty server entry", s)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			// No port given: ZooKeeper's default.
			host, port = h, "2181"
			if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
				return cs, fmt.Errorf("connect string %q: bad server %q: %w", s, h, err)
			}
			host = strings.Trim(host, "[]")
		}
		if host == "" {
			return cs, fmt.Errorf("connect string %q: server %q has no host", s, h)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return cs, fmt.Errorf("connect string %q: server %q: port must be 1-65535", s, h)
		}
		cs.Servers = append(cs.Servers, net.JoinHostPort(host, port))
	}
	return cs, nil
}

// ValidateConnectString reports what is wrong with a connect string, so a
// command line can be refused before anything connects.
func ValidateConnectString(s string) error {
	_, err := parseConnectString(s)
	return err
}

// ServersAndChroot returns the servers and chroot of a connect string, for
// display (zk_monitor_cluster_info): rebuilt from their parsed form, so
// that nothing else of the string (such as a user:password@ someone put in
// front of a host) is shown; "" when s is not a connect string.
func ServersAndChroot(s string) string {
	cs, err := parseConnectString(s)
	if err != nil {
		return ""
	}
	servers := make([]string, len(cs.Servers))
	for i, srv := range cs.Servers {
		if at := strings.LastIndexByte(srv, '@'); at >= 0 {
			srv = srv[at+1:]
		}
		servers[i] = srv
	}
	return strings.Join(servers, ",") + cs.Chroot
}
