package zkclient

import (
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestHeldWatches(t *testing.T) {
	cases := []struct {
		name  string
		add   []watchKind
		fired zk.EventType
		held  map[watchKind]bool
	}{
		{"child consumed by children changed", []watchKind{watchChild, watchData}, zk.EventNodeChildrenChanged,
			map[watchKind]bool{watchChild: false, watchData: true, watchExist: true}},
		{"data change consumes data and exists", []watchKind{watchChild, watchData}, zk.EventNodeDataChanged,
			map[watchKind]bool{watchChild: true, watchData: false, watchExist: false}},
		{"deletion consumes all", []watchKind{watchChild, watchData}, zk.EventNodeDeleted,
			map[watchKind]bool{watchChild: false, watchData: false, watchExist: false}},
		{"creation consumes the exists watch", []watchKind{watchExist}, zk.EventNodeCreated,
			map[watchKind]bool{watchChild: false, watchData: false, watchExist: false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHeldWatches()
			for _, k := range tc.add {
				h.add(k, "/p", h.token())
			}
			h.fired(tc.fired, "/p")
			for kind, want := range tc.held {
				if got := h.held(kind, "/p"); got != want {
					t.Errorf("held(%d) = %v, want %v", kind, got, want)
				}
			}
			if h.held(watchChild, "/other") {
				t.Error("another path is not watched")
			}
		})
	}
	h := newHeldWatches()
	h.add(watchChild, "/p", h.token())
	h.lostAll()
	if h.held(watchChild, "/p") {
		t.Error("lostAll kept a watch")
	}

	// A notification dispatched while the watching request was in flight
	// means the watch may be consumed: it must not be recorded as held.
	tok := h.token()
	h.fired(zk.EventNodeChildrenChanged, "/q")
	h.add(watchChild, "/q", tok)
	if h.held(watchChild, "/q") {
		t.Error("a watch whose notification raced its request was recorded as held")
	}
	tok = h.token()
	h.lostAll()
	h.add(watchChild, "/q", tok)
	if h.held(watchChild, "/q") {
		t.Error("a watch set across lostAll was recorded as held")
	}
}
