package zkclient

import "sync"

// InOrder makes a client try the servers of its connect string in the
// order given, where go-zookeeper shuffles them: a test of a hung first
// server then covers that order on every run.
func InOrder(o Options) Options {
	cs, err := parseConnectString(o.ConnectString)
	if err == nil {
		o.hostProvider = &orderedHosts{servers: cs.Servers}
	}
	return o
}

// orderedHosts is a zk.HostProvider with a fixed order. Like the library's
// own, it reports retryStart when it comes back to the server it last
// connected to (the library then pauses a second).
type orderedHosts struct {
	mu         sync.Mutex
	servers    []string
	curr, last int
}

// Init ignores the servers it is given: go-zookeeper shuffled them.
func (h *orderedHosts) Init([]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr, h.last = -1, -1
	return nil
}

func (h *orderedHosts) Len() int { return len(h.servers) }

func (h *orderedHosts) Next() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr = (h.curr + 1) % len(h.servers)
	retryStart := h.curr == h.last
	if h.last == -1 {
		h.last = 0
	}
	return h.servers[h.curr], retryStart
}

func (h *orderedHosts) Connected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = h.curr
}
