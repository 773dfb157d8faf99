package testenv

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	// zkTickTime is the default ZooKeeper tick; sessions may be as short as
	// two ticks.
	zkTickTime          = 200 * time.Millisecond
	zkSyncLimit         = 5 // ticks: 1s to notice a lost peer
	zkMaxSessionTimeout = 60 * time.Second

	// Waits of the harness; they are stretched by the scale knob.
	zkStartTimeout = 60 * time.Second
	zkStopGrace    = 10 * time.Second
	zkProbeTimeout = time.Second

	// ZKNotServing is what a ZooKeeper without quorum answers to most
	// four-letter words (srvr, stat, mntr...).
	ZKNotServing = "This ZooKeeper instance is not currently serving requests"

	zkJavaDir = "/usr/share/java"
	zkMain    = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
)

// zkRequiredJars must exist; zkOptionalJars are added when present (most are
// also named by zookeeper.jar's manifest Class-Path).
var (
	zkRequiredJars = []string{
		"zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar",
		"netty-buffer.jar", "netty-common.jar", "netty-handler.jar", "netty-transport.jar",
		"netty-resolver.jar", "netty-codec.jar", "netty-transport-native-unix-common.jar",
		"netty-transport-native-epoll.jar", "commons-cli.jar", "metrics-core.jar",
	}
	zkOptionalJars = []string{
		"snappy-java.jar", "commons-io.jar", "jackson-annotations.jar", "jackson-core.jar",
		"jackson-databind.jar",
	}
)

// ZooKeeper is a real ZooKeeper 3.8 server process, standalone or an
// ensemble member, listening on 127.0.0.1.
type ZooKeeper struct {
	t          testing.TB
	id         int // myid; 0 for a standalone server
	dir        string
	clientPort int
	securePort int // 0 without ZKTLS
	proc       *process
}

// ZKOption changes the configuration of a standalone ZooKeeper.
type ZKOption func(t testing.TB, cfg *zkSettings)

type zkSettings struct {
	lines      []string // more zoo.cfg lines
	securePort int
}

// ZKConfig adds lines to zoo.cfg. Keys ZooKeeper does not know become Java
// system properties named "zookeeper.<key>" (request_throttle_max_requests,
// throttled_op_wait_time, ...).
func ZKConfig(lines ...string) ZKOption {
	return func(_ testing.TB, cfg *zkSettings) { cfg.lines = append(cfg.lines, lines...) }
}

// ZKTLS adds a secureClientPort served with TLS by Netty, as ZooKeeper's
// admin guide configures it: keyStore is a PEM file with the server's
// private key and certificate, trustStore a PEM file with the CA
// certificates that client certificates must chain to, which clients must
// present (ssl.clientAuth=need). The plain clientPort stays.
func ZKTLS(keyStore, trustStore string) ZKOption {
	return func(t testing.TB, cfg *zkSettings) {
		cfg.securePort = FreePort(t)
		cfg.lines = append(cfg.lines,
			fmt.Sprintf("secureClientPort=%d", cfg.securePort),
			"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
			"ssl.keyStore.location="+keyStore,
			"ssl.keyStore.type=PEM",
			"ssl.trustStore.location="+trustStore,
			"ssl.trustStore.type=PEM",
			"ssl.clientAuth=need",
		)
	}
}

// StartZooKeeper starts a standalone ZooKeeper on a free port with its data in
// a temporary directory and waits until it serves requests. tickTime is 200ms
// and minSessionTimeout 400ms so that tests can use short sessions.
func StartZooKeeper(t testing.TB, opts ...ZKOption) *ZooKeeper {
	t.Helper()
	SkipIfShort(t, "needs a real ZooKeeper")
	dir := t.TempDir()
	port := FreePort(t)
	var settings zkSettings
	for _, o := range opts {
		o(t, &settings)
	}
	cfg := zkConfig(dir, port, nil, zkTickTime, zkSyncLimit) + strings.Join(append(settings.lines, ""), "\n")
	z := newZooKeeper(t, 0, dir, port, cfg)
	z.securePort = settings.securePort
	if err := z.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := z.waitReady(zkStartTimeout, true); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return z
}

// newZooKeeper writes cfg into dir and prepares the process (not started).
func newZooKeeper(t testing.TB, id int, dir string, port int, cfg string) *ZooKeeper {
	t.Helper()
	java := RequireBinary(t, "java")
	cp := zkClasspath(t)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatalf("testenv: writing %s: %v", cfgPath, err)
	}
	if id > 0 {
		myid := filepath.Join(dir, "data", "myid")
		if err := os.WriteFile(myid, []byte(strconv.Itoa(id)+"\n"), 0o644); err != nil {
			t.Fatalf("testenv: writing %s: %v", myid, err)
		}
	}
	args := []string{
		"-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.jmx.log4j.disable=true",
		// Re-elections after a restart should not back off for a minute.
		"-Dzookeeper.fastleader.maxNotificationInterval=1000",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
		"-cp", cp, zkMain, cfgPath,
	}
	name := "zookeeper"
	if id > 0 {
		name = fmt.Sprintf("zookeeper-%d", id)
	}
	z := &ZooKeeper{t: t, id: id, dir: dir, clientPort: port}
	z.proc = newProcess(t, name, filepath.Join(dir, "zookeeper.log"), java, args...)
	z.proc.dir = dir
	return z
}

// zkClasspath builds the -cp value from the jars in /usr/share/java.
func zkClasspath(t testing.TB) string {
	t.Helper()
	var cp []string
	for _, j := range zkRequiredJars {
		p := filepath.Join(zkJavaDir, j)
		requireFile(t, p)
		cp = append(cp, p)
	}
	for _, j := range zkOptionalJars {
		p := filepath.Join(zkJavaDir, j)
		if _, err := os.Stat(p); err == nil {
			cp = append(cp, p)
		}
	}
	return strings.Join(cp, ":")
}

// zkConfig renders zoo.cfg. servers are the "server.N=..." lines of an
// ensemble, nil for a standalone server. Sessions may be as short as two
// ticks (ZooKeeper's default minSessionTimeout); a follower gives up on its
// leader, and the leader on a follower, after syncLimit ticks of silence.
func zkConfig(dir string, clientPort int, servers []string, tick time.Duration, syncLimit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tickTime=%d\n", tick.Milliseconds())
	fmt.Fprintf(&b, "minSessionTimeout=%d\n", 2*tick.Milliseconds())
	fmt.Fprintf(&b, "maxSessionTimeout=%d\n", zkMaxSessionTimeout.Milliseconds())
	fmt.Fprintf(&b, "initLimit=25\nsyncLimit=%d\n", syncLimit)
	fmt.Fprintf(&b, "dataDir=%s\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&b, "clientPortAddress=127.0.0.1\nclientPort=%d\n", clientPort)
	b.WriteString("4lw.commands.whitelist=*\n")
	b.WriteString("admin.enableServer=false\n")
	b.WriteString("maxClientCnxns=0\n")
	b.WriteString("forceSync=no\n")      // data still reaches the OS before replies
	b.WriteString("preAllocSize=1024\n") // KB; the default is 64MB per txn log
	if len(servers) > 0 {
		b.WriteString("standaloneEnabled=false\n")
		b.WriteString("reconfigEnabled=false\n")
		for _, s := range servers {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

// start launches the process (not waiting for readiness).
func (z *ZooKeeper) start() error {
	return z.proc.start()
}

// waitReady waits until the server answers ruok with imok and, if serving is
// true, until srvr reports a Mode (standalone, leader or follower); timeout
// is stretched by the scale knob.
func (z *ZooKeeper) waitReady(timeout time.Duration, serving bool) error {
	timeout = Scaled(timeout)
	deadline := time.Now().Add(timeout)
	exited := z.proc.exited()
	last := "no answer yet"
	for {
		ok, why := z.ready(serving)
		if ok {
			return nil
		}
		last = why
		if time.Now().After(deadline) {
			return fmt.Errorf("%s on %s not ready after %v: %s", z.proc.name, z.Addr(), timeout, last)
		}
		select {
		case <-exited:
			return z.proc.diedError()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (z *ZooKeeper) ready(serving bool) (bool, string) {
	out, err := FourLetterWord(z.Addr(), "ruok", zkProbeTimeout)
	if err != nil {
		return false, err.Error()
	}
	if out != "imok" {
		return false, fmt.Sprintf("ruok answered %q", out)
	}
	if !serving {
		return true, ""
	}
	mode, err := z.Mode()
	if err != nil {
		return false, err.Error()
	}
	if mode == "" {
		return false, "not serving"
	}
	return true, ""
}

// Addr returns the client address, "127.0.0.1:PORT".
func (z *ZooKeeper) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(z.clientPort))
}

// Port returns the client port.
func (z *ZooKeeper) Port() int { return z.clientPort }

// SecureAddr returns the TLS client address (ZKTLS), "127.0.0.1:PORT".
func (z *ZooKeeper) SecureAddr() string {
	if z.securePort == 0 {
		z.t.Fatal("testenv: ZooKeeper started without ZKTLS has no secure address")
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(z.securePort))
}

// ID returns the server's myid in its ensemble, 0 for a standalone server.
func (z *ZooKeeper) ID() int { return z.id }

// Dir returns the server's directory (zoo.cfg, data/, zookeeper.log).
func (z *ZooKeeper) Dir() string { return z.dir }

// LogPath returns the path of the server's output log.
func (z *ZooKeeper) LogPath() string { return z.proc.logPath }

// Pid returns the pid of the running (or last) server process, 0 if it never ran.
func (z *ZooKeeper) Pid() int { return z.proc.pid() }

// Running reports whether the server process is alive.
func (z *ZooKeeper) Running() bool { return z.proc.running() }

// Stop sends SIGTERM and waits for the process to exit (SIGKILL after 10s).
// Stopping a stopped server does nothing.
func (z *ZooKeeper) Stop() {
	z.t.Helper()
	if err := z.proc.stop(zkStopGrace); err != nil {
		z.t.Fatalf("testenv: stopping %s: %v", z.proc.name, err)
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (z *ZooKeeper) Kill() {
	z.t.Helper()
	if err := z.proc.kill(); err != nil {
		z.t.Fatalf("testenv: killing %s: %v", z.proc.name, err)
	}
}

// Start restarts a stopped server on the same port with the same data
// directory. A standalone server is waited for until it serves requests; an
// ensemble member only until it answers ruok (it may have no quorum).
func (z *ZooKeeper) Start() {
	z.t.Helper()
	if err := z.start(); err != nil {
		z.t.Fatalf("testenv: %v", err)
	}
	if err := z.waitReady(zkStartTimeout, z.id == 0); err != nil {
		z.t.Fatalf("testenv: %v", err)
	}
}

// Mode returns the Mode reported by srvr ("standalone", "leader",
// "follower", "observer"), or "" if the server answers that it is not
// serving requests.
func (z *ZooKeeper) Mode() (string, error) {
	out, err := FourLetterWord(z.Addr(), "srvr", zkProbeTimeout)
	if err != nil {
		return "", err
	}
	return parseMode(out)
}

// Epoch returns the epoch this server serves in: the upper 32 bits of the
// last zxid it reports. Every ZooKeeper leader election that succeeds
// starts a new epoch, so a rise tells that the ensemble re-elected.
func (z *ZooKeeper) Epoch() (int64, error) {
	out, err := FourLetterWord(z.Addr(), "srvr", zkProbeTimeout)
	if err != nil {
		return 0, err
	}
	return parseEpoch(out)
}

func parseMode(srvr string) (string, error) {
	if strings.Contains(srvr, ZKNotServing) {
		return "", nil
	}
	return srvrField(srvr, "Mode")
}

func parseEpoch(srvr string) (int64, error) {
	raw, err := srvrField(srvr, "Zxid")
	if err != nil {
		return 0, err
	}
	zxid, err := strconv.ParseInt(raw, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("srvr answer with a bad Zxid %q: %w", raw, err)
	}
	return zxid >> 32, nil
}

// srvrField returns the value of the line "name: value" of a srvr answer.
func srvrField(srvr, name string) (string, error) {
	for _, line := range strings.Split(srvr, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("srvr answer without %s: %q", name, srvr)
}

// FourLetterWord sends a four-letter command (ruok, srvr, stat, mntr, ...) to
// the ZooKeeper at addr and returns everything it answers before closing the
// connection, within timeout (stretched by the scale knob).
func FourLetterWord(addr, cmd string, timeout time.Duration) (string, error) {
	timeout = Scaled(timeout)
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", fmt.Errorf("four-letter word %s to %s: %w", cmd, addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", fmt.Errorf("four-letter word %s to %s: %w", cmd, addr, err)
	}
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", fmt.Errorf("four-letter word %s to %s: %w", cmd, addr, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return string(out), fmt.Errorf("four-letter word %s to %s: %w", cmd, addr, err)
	}
	return string(out), nil
}
