package testenv

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one message received by the SMTP sink.
type Mail struct {
	From string
	To   []string
	Data string // the raw message, headers included, dot-unstuffed, CRLF line ends
}

// SMTPSink is a minimal SMTP server that accepts every message and keeps it.
// It speaks EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP and QUIT, and
// advertises neither STARTTLS nor AUTH (Alertmanager needs require_tls: false).
type SMTPSink struct {
	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	msgs   []Mail
}

// StartSMTPSink listens on 127.0.0.1 on a free port.
func StartSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: smtp sink listen: %v", err)
	}
	s := &SMTPSink{ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.close)
	return s
}

// Addr returns "127.0.0.1:PORT", usable as an Alertmanager smarthost.
func (s *SMTPSink) Addr() string { return s.ln.Addr().String() }

// Messages returns a copy of the messages received so far, oldest first.
func (s *SMTPSink) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mail, len(s.msgs))
	for i, m := range s.msgs {
		m.To = append([]string(nil), m.To...)
		out[i] = m
	}
	return out
}

func (s *SMTPSink) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *SMTPSink) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			s.serve(c)
		}()
	}
}

// serve runs one SMTP session.
func (s *SMTPSink) serve(c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			_, _ = w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	readLine := func() (string, bool) {
		_ = c.SetReadDeadline(time.Now().Add(Scaled(time.Minute)))
		line, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		return strings.TrimRight(line, "\r\n"), true
	}

	var from string
	var to []string
	haveMail := false
	reset := func() { from, to, haveMail = "", nil, false }

	if !reply("220 testenv SMTP sink ready") {
		return
	}
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reset()
			ok = reply("250-testenv greets "+arg, "250 HELP")
		case "HELO":
			reset()
			ok = reply("250 testenv")
		case "MAIL":
			addr, found := smtpPath(arg, "FROM:")
			if !found {
				ok = reply("501 syntax: MAIL FROM:<address>")
				break
			}
			reset()
			from, haveMail = addr, true
			ok = reply("250 OK")
		case "RCPT":
			if !haveMail {
				ok = reply("503 need MAIL before RCPT")
				break
			}
			addr, found := smtpPath(arg, "TO:")
			if !found {
				ok = reply("501 syntax: RCPT TO:<address>")
				break
			}
			to = append(to, addr)
			ok = reply("250 OK")
		case "DATA":
			if !haveMail || len(to) == 0 {
				ok = reply("503 need MAIL and RCPT before DATA")
				break
			}
			if !reply("354 end data with <CR><LF>.<CR><LF>") {
				return
			}
			var data strings.Builder
			for {
				l, ok := readLine()
				if !ok {
					return
				}
				if l == "." {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".")) // dot-unstuffing
				data.WriteString("\r\n")
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, Mail{From: from, To: to, Data: data.String()})
			n := len(s.msgs)
			s.mu.Unlock()
			reset()
			ok = reply(fmt.Sprintf("250 OK queued as %d", n))
		case "RSET":
			reset()
			ok = reply("250 OK")
		case "NOOP":
			ok = reply("250 OK")
		case "VRFY":
			ok = reply("252 cannot verify, will accept")
		case "QUIT":
			reply("221 bye")
			return
		default:
			ok = reply("502 command not implemented")
		}
		if !ok {
			return
		}
	}
}

// smtpPath parses `FROM:<addr> [params]` (prefix "FROM:") into addr.
func smtpPath(arg, prefix string) (string, bool) {
	arg = strings.TrimSpace(arg)
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if strings.HasPrefix(rest, "<") {
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return "", false
		}
		return rest[1:end], true
	}
	addr, _, _ := strings.Cut(rest, " ")
	return addr, addr != ""
}
