package alerting

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/internal/testenv"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// storeEnv is a firing store on a real ZooKeeper, fenced by an ephemeral
// node of its own session, as the leader's election node is.
type storeEnv struct {
	client *zkclient.Client
	store  *FiringStore
	fence  string
}

func newStoreEnv(t testing.TB, addr, workspace string) *storeEnv {
	t.Helper()
	client := testenv.ZKClient(t, zkclient.Options{ConnectString: addr})
	open := zk.WorldACL(zk.PermAll)
	if err := client.EnsurePath(workspace+"/election", open); err != nil {
		t.Fatal(err)
	}
	fence, err := client.Create(workspace+"/election/n-", nil, zk.FlagEphemeral|zk.FlagSequence, open)
	if err != nil {
		t.Fatal(err)
	}
	return &storeEnv{
		client: client,
		store:  NewFiringStore(client, workspace+"/firing", open, func() string { return fence }),
		fence:  fence,
	}
}

// firingAlertOf builds the firing alert of kind k for path.
func firingAlertOf(k kind, path string, startsAt time.Time) *alert {
	a, _ := alertBuilder{cluster: "c", agent: "agent-1"}.buildKind(k, config.PathSpec{
		Path:    path,
		Alerter: config.Alerter{Email: []string{"ops@example.com"}},
	}, "Found children (0) less than minimum (1)", startsAt)
	return a
}

// put returns the changes that create the records of alerts.
func put(t *testing.T, alerts ...*alert) []recordChange {
	t.Helper()
	var out []recordChange
	for _, a := range alerts {
		data, _, err := encodeRecord(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recordChange{name: nodeName(a.key()), data: data})
	}
	return out
}

// startStore starts a ZooKeeper for one test and a store on it.
func startStore(t *testing.T) *storeEnv {
	t.Helper()
	testenv.SkipIfShort(t, "needs a real ZooKeeper")
	return newStoreEnv(t, testenv.StartZooKeeper(t).Addr(), "/ws")
}

func TestFiringStoreRoundTrip(t *testing.T) {
	env := startStore(t)
	ctx := context.Background()

	start := time.Date(2026, 5, 31, 16, 20, 0, 123456789, time.UTC)
	alerts := []*alert{
		firingAlertOf(notCompliant, "/a", start),
		firingAlertOf(unreadable, "/a", start.Add(time.Second)),
		// A path as long and odd as znode paths get: the node name stays 32
		// hex characters.
		firingAlertOf(notCompliant, "/"+strings.Repeat("ü/x.", 300)+"end", start),
	}
	if n, err := env.store.write(ctx, env.fence, put(t, alerts...)); n != 3 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	recs, bad, err := env.store.load(ctx)
	if err != nil || len(bad) > 0 {
		t.Fatalf("load: %v %v", bad, err)
	}
	got := map[recordKey]*alert{}
	for _, r := range recs {
		if len(r.name) != 32 {
			t.Errorf("node name %q: want 32 hex characters", r.name)
		}
		if ok, _, err := env.client.Exists("/ws/firing/" + r.name[:2] + "/" + r.name); !ok || err != nil {
			t.Errorf("%s is not in its shard: %v", r.name, err)
		}
		got[r.alert.key()] = r.alert
	}
	for _, want := range alerts {
		a := got[want.key()]
		if a == nil {
			t.Errorf("%s %s not loaded", want.kind.alertName(), want.path)
			continue
		}
		wantAnnotations := maps.Clone(want.annotations)
		delete(wantAnnotations, annotationAgent)
		if !maps.Equal(a.labels, want.labels) || !maps.Equal(a.annotations, wantAnnotations) ||
			!a.startsAt.Equal(want.startsAt) || a.fingerprint != want.fingerprint {
			t.Errorf("loaded %+v, want %+v without the agent", a, want)
		}
	}

	// Set and delete.
	moved := firingAlertOf(notCompliant, "/a", start.Add(time.Hour))
	data, _, _ := encodeRecord(moved)
	changes := []recordChange{
		{name: nodeName(moved.key()), data: data, exists: true},
		{name: nodeName(alerts[1].key())},
	}
	if n, err := env.store.write(ctx, env.fence, changes); n != 2 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	recs, _, err = env.store.load(ctx)
	if err != nil || len(recs) != 2 {
		t.Fatalf("load after set and delete: %d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if r.alert.key() == moved.key() && !r.alert.startsAt.Equal(moved.startsAt) {
			t.Errorf("startsAt %s after the set, want %s", r.alert.startsAt, moved.startsAt)
		}
	}
}

// TestFiringStoreFenced: once the leader's election node is gone, no write
// gets through, not even part of a batch.
func TestFiringStoreFenced(t *testing.T) {
	env := startStore(t)
	ctx := context.Background()
	first := firingAlertOf(notCompliant, "/first", t0)
	if _, err := env.store.write(ctx, env.fence, put(t, first)); err != nil {
		t.Fatal(err)
	}

	if err := env.client.Delete(env.fence, -1); err != nil {
		t.Fatal(err)
	}
	n, err := env.store.write(ctx, env.fence, append(put(t, firingAlertOf(notCompliant, "/late", t0)), recordChange{name: nodeName(first.key())}))
	if n != 0 || !errors.Is(err, ErrFenced) {
		t.Fatalf("write after the fence went = %d, %v; want 0, ErrFenced", n, err)
	}
	recs, _, err := env.store.load(ctx)
	if err != nil || len(recs) != 1 || recs[0].alert.path != "/first" {
		t.Fatalf("the set changed after the fence went: %+v, %v", recs, err)
	}
}

// TestFiringStoreLimits writes more records than one transaction takes, a
// record with a huge summary (cut) and one too big to keep, and reads back
// nodes that hold no usable record.
func TestFiringStoreLimits(t *testing.T) {
	env := startStore(t)
	ctx := context.Background()

	var alerts []*alert
	for i := range 2*maxBatchOps + 7 {
		alerts = append(alerts, firingAlertOf(notCompliant, fmt.Sprintf("/many/%05d", i), t0))
	}
	if n, err := env.store.write(ctx, env.fence, put(t, alerts...)); n != len(alerts) || err != nil {
		t.Fatalf("write = %d, %v; want %d", n, err, len(alerts))
	}

	huge := firingAlertOf(notCompliant, "/huge", t0)
	huge.annotations[annotationSummary] = strings.Repeat("é", 10000)
	if _, _, err := encodeRecord(huge); err != nil {
		t.Fatalf("a huge summary: %v", err)
	}
	tooBig := firingAlertOf(notCompliant, "/too-big", t0)
	tooBig.labels["team"] = strings.Repeat("x", maxRecordBytes)
	if _, _, err := encodeRecord(tooBig); err == nil {
		t.Fatal("a record over the limit was encoded")
	}

	// Nodes that are no usable record: garbage, and a record in the node
	// of another path.
	other, _, _ := encodeRecord(firingAlertOf(notCompliant, "/other", t0))
	garbage := nodeName(recordKey{path: "/garbage"})
	misnamed := nodeName(recordKey{path: "/misnamed"})
	changes := append(put(t, huge), recordChange{name: garbage, data: []byte("{not json")}, recordChange{name: misnamed, data: other})
	if _, err := env.store.write(ctx, env.fence, changes); err != nil {
		t.Fatal(err)
	}

	recs, bad, err := env.store.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(alerts)+3 || len(bad) != 2 {
		t.Fatalf("loaded %d records (%d unusable: %v), want %d and 2", len(recs), len(bad), bad, len(alerts)+3)
	}
	for _, r := range recs {
		switch {
		case r.name == garbage || r.name == misnamed:
			if r.alert != nil {
				t.Errorf("%s: unusable record loaded as %+v", r.name, r.alert)
			}
		case r.alert == nil:
			t.Errorf("%s: not loaded", r.name)
		case r.alert.path == "/huge":
			if s := r.alert.annotations[annotationSummary]; len(s) > maxAnnotationBytes || !strings.HasSuffix(s, "…") {
				t.Errorf("huge summary stored as %d bytes ending %q", len(s), s[len(s)-8:])
			}
		}
	}
}
