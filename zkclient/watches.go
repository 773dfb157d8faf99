package zkclient

import (
	"sync"

	"github.com/go-zookeeper/zk"
)

type watchKind uint8

const (
	watchChild watchKind = 1 << iota
	watchData
	watchExist
)

// heldWatches mirrors which watches go-zookeeper holds, so a re-read after
// a reconnect within the same session does not register another channel
// per path (the library keeps every one until its watch fires, which grew
// the heap on every reconnect). The library restores its watches on the
// server when it reconnects; when that fails it says so only in a log line,
// which the logger adapter turns into lostAll.
type heldWatches struct {
	mu    sync.Mutex
	paths map[string]watchKind
	// changes counts notifications and losses, so that a watch set by a
	// request is not recorded as held when a notification (possibly its
	// own) was dispatched before the request's caller got the answer. One
	// counter for all paths: a per-path one would grow with every path
	// ever seen; a spurious miss only costs one more watching request.
	changes uint64
}

func newHeldWatches() *heldWatches {
	return &heldWatches{paths: map[string]watchKind{}}
}

// watchToken is taken before a watching request and handed to add.
type watchToken uint64

func (h *heldWatches) token() watchToken {
	h.mu.Lock()
	defer h.mu.Unlock()
	return watchToken(h.changes)
}

// held reports whether a watch of kind is held on p. An exists watch is
// also served by a data watch: the library files one on an existing node
// as a data watch.
func (h *heldWatches) held(kind watchKind, p string) bool {
	if kind == watchExist {
		kind |= watchData
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.paths[p]&kind != 0
}

// add records a watch set by a request that started at tok, unless a
// notification for p (or a loss of every watch) came in meanwhile: then the
// watch may be gone already and the next read must set it again.
func (h *heldWatches) add(kind watchKind, p string, tok watchToken) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if uint64(tok) != h.changes {
		return
	}
	h.paths[p] |= kind
}

// fired clears the watches a notification of type t consumed, as the
// library does in notifyWatches.
func (h *heldWatches) fired(t zk.EventType, p string) {
	var kinds watchKind
	switch t {
	case zk.EventNodeCreated:
		kinds = watchExist
	case zk.EventNodeDataChanged:
		kinds = watchExist | watchData
	case zk.EventNodeChildrenChanged:
		kinds = watchChild
	case zk.EventNodeDeleted:
		kinds = watchExist | watchData | watchChild
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.changes++
	if left := h.paths[p] &^ kinds; left != 0 {
		h.paths[p] = left
	} else {
		delete(h.paths, p)
	}
}

// lostAll forgets every watch: the session expired or the library failed
// to restore them after a reconnect.
func (h *heldWatches) lostAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.paths = map[string]watchKind{}
	h.changes++
}
