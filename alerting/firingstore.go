package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/zkclient"
)

// FiringZooKeeper is what a FiringStore needs of a ZooKeeper connection;
// *zkclient.Client implements it.
type FiringZooKeeper interface {
	Children(p string) ([]string, *zk.Stat, error)
	Get(p string) ([]byte, *zk.Stat, error)
	EnsurePath(p string, acl []zk.ACL) error
	Multi(ops ...zkclient.Op) error
	Check(p string, version int32) error
}

// Limits of the firing set in ZooKeeper. ZooKeeper refuses requests over
// jute.maxbuffer (1 MiB by default) and go-zookeeper cannot encode one
// over 1.5 MiB, so a batch stays well below; a record holds labels and
// annotations, which are small unless a summary is huge, so annotations
// are cut and a record that is still too big is not kept.
const (
	maxBatchOps        = 500
	maxBatchBytes      = 256 << 10
	maxRecordBytes     = 16 << 10
	maxAnnotationBytes = 2 << 10
	// loadConcurrency bounds the reads in flight when a leader reads the
	// set, as the watcher bounds its own.
	loadConcurrency = 16
)

// ErrFenced is returned by FiringStore writes after this agent's term of
// leadership ended in ZooKeeper: its election node is gone.
var ErrFenced = errors.New("leadership ended: the firing set is written by the new leader")

// FiringStore keeps the alerts of a cluster that fire in ZooKeeper, under
// <workspace>/firing, so that a new leader goes on with them and their
// start times instead of starting hold-downs from scratch.
//
// Each alert is one znode, named by a hash of its alert name and path (a
// fixed 32 characters, whatever the path's length and characters), in one
// of 256 shard directories named by the hash's first two characters, so
// that no listing grows past a few hundred names at 100,000 firing alerts.
// Its data is JSON: labels, annotations (but the agent's name) and
// startsAt. Every write is a multi that first checks the leader's own
// election node, so an agent that lost the lead cannot write, however
// late its request arrives.
type FiringStore struct {
	zk    FiringZooKeeper
	dir   string
	acl   []zk.ACL
	fence func() string

	mu       sync.Mutex
	dirReady bool            // the set's directory is known to exist
	shards   map[string]bool // shard directories known to exist
}

// NewFiringStore returns a store in dir (<workspace>/firing) whose nodes
// get acl. fence returns the path whose existence proves this agent's
// current term of leadership (its election node), "" when it does not
// lead.
func NewFiringStore(conn FiringZooKeeper, dir string, acl []zk.ACL, fence func() string) *FiringStore {
	return &FiringStore{zk: conn, dir: dir, acl: acl, fence: fence, shards: map[string]bool{}}
}

// record is a firing alert as stored.
type record struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
}

// storedRecord is one znode of the set as read.
type storedRecord struct {
	name string
	// alert is nil for a node that holds no usable record: it is deleted.
	alert *alert
	hash  uint64
}

// nodeName is the znode name of key's record.
func nodeName(key recordKey) string {
	sum := sha256.Sum256([]byte(key.kind.alertName() + "\x00" + key.path))
	return hex.EncodeToString(sum[:16])
}

func (s *FiringStore) shardDir(name string) string { return s.dir + "/" + name[:2] }
func (s *FiringStore) nodePath(name string) string { return s.shardDir(name) + "/" + name }

// encodeRecord returns the data of a's record, and its hash.
func encodeRecord(a *alert) ([]byte, uint64, error) {
	annotations := maps.Clone(a.annotations)
	// Who sent it last is no part of the alert's state: a new leader would
	// rewrite every record for it.
	delete(annotations, annotationAgent)
	for name, value := range annotations {
		annotations[name] = truncate(value, maxAnnotationBytes)
	}
	data, err := json.Marshal(record{Labels: a.labels, Annotations: annotations, StartsAt: a.startsAt.UTC()})
	if err != nil {
		return nil, 0, fmt.Errorf("encoding the record of %s %s: %w", a.kind.alertName(), a.path, err)
	}
	if len(data) > maxRecordBytes {
		return nil, 0, fmt.Errorf("record of %s %s: %d bytes, over the limit of %d", a.kind.alertName(), a.path, len(data), maxRecordBytes)
	}
	return data, hashData(data), nil
}

func hashData(data []byte) uint64 {
	h := fnv.New64a()
	h.Write(data)
	return h.Sum64()
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// decodeRecord turns the data of node name back into an alert. The data
// is outside input: it must name a known alert and a path whose record
// has this name, and its labels are checked as the builder checks them, so
// that Alertmanager cannot refuse the batch that carries it.
func decodeRecord(name string, data []byte) (*alert, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	k, ok := kindOf(r.Labels[labelAlertName])
	if !ok {
		return nil, fmt.Errorf("unknown alert name %q", r.Labels[labelAlertName])
	}
	p := r.Labels[labelPath]
	if p == "" {
		return nil, errors.New("no path label")
	}
	if want := nodeName(recordKey{kind: k, path: p}); want != name {
		return nil, fmt.Errorf("the record of %s %s belongs in node %s", k.alertName(), p, want)
	}
	if r.StartsAt.IsZero() {
		return nil, errors.New("no startsAt")
	}
	labels, invalid := validLabels(r.Labels)
	if len(invalid) > 0 {
		return nil, fmt.Errorf("invalid label %q=%q", invalid[0].name, invalid[0].value)
	}
	if r.Annotations == nil {
		r.Annotations = map[string]string{}
	}
	return newAlert(k, p, labels, r.Annotations, r.StartsAt), nil
}

// load reads the whole set. Nodes that hold no usable record come back
// with a nil alert (and why in errs), for the caller to delete.
func (s *FiringStore) load(ctx context.Context) (recs []storedRecord, errs []error, err error) {
	shards, _, err := s.zk.Children(s.dir)
	if errors.Is(err, zk.ErrNoNode) {
		s.mu.Lock()
		s.shards = map[string]bool{}
		s.dirReady = false
		s.mu.Unlock()
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", s.dir, err)
	}
	var names []string
	known := map[string]bool{}
	for _, shard := range shards {
		children, _, err := s.zk.Children(s.dir + "/" + shard)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("listing %s/%s: %w", s.dir, shard, err)
		}
		known[shard] = true
		for _, name := range children {
			if len(name) < 2 || name[:2] != shard {
				// Not ours: a znode someone else put here.
				continue
			}
			names = append(names, name)
		}
	}
	s.mu.Lock()
	s.shards = known
	s.dirReady = true
	s.mu.Unlock()

	recs = make([]storedRecord, len(names))
	readErrs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(loadConcurrency, len(names)) {
		wg.Go(func() {
			for i := range next {
				recs[i], readErrs[i] = s.read(names[i])
			}
		})
	}
	for i := range names {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	out := recs[:0]
	for i, r := range recs {
		if errors.Is(readErrs[i], errUnusable) {
			errs = append(errs, readErrs[i])
		} else if readErrs[i] != nil {
			return nil, nil, readErrs[i]
		}
		if r.name != "" {
			out = append(out, r)
		}
	}
	return out, errs, nil
}

// errUnusable marks a node that holds no usable record.
var errUnusable = errors.New("unusable record")

// read reads one node of the set: a record with no name if it is gone, and
// a nil alert (with an error wrapping errUnusable) if it holds no usable
// record.
func (s *FiringStore) read(name string) (storedRecord, error) {
	p := s.nodePath(name)
	data, _, err := s.zk.Get(p)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		// Deleted since it was listed: nothing to keep or delete.
		return storedRecord{}, nil
	case err != nil:
		return storedRecord{}, fmt.Errorf("reading %s: %w", p, err)
	}
	r := storedRecord{name: name, hash: hashData(data)}
	r.alert, err = decodeRecord(name, data)
	if err != nil {
		return r, fmt.Errorf("%w %s: %w", errUnusable, p, err)
	}
	return r, nil
}

// recordChange is one write of the set: data for the node name (created
// unless exists), or its deletion when data is nil.
type recordChange struct {
	name   string
	data   []byte
	exists bool
}

// write applies changes in order, in batches that each check the fence
// first, and returns how many were applied. fence is the leader's
// election node at the start of its term.
func (s *FiringStore) write(ctx context.Context, fence string, changes []recordChange) (int, error) {
	if err := s.ensureDir(); err != nil {
		return 0, err
	}
	done := 0
	for done < len(changes) {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		n, ops, shards := s.batch(fence, changes[done:])
		if err := s.zk.Multi(ops...); err != nil {
			return done, s.explain(fence, err)
		}
		s.mu.Lock()
		for _, shard := range shards {
			s.shards[shard] = true
		}
		s.mu.Unlock()
		done += n
	}
	return done, nil
}

// batch returns the operations of the next transaction: the fence check,
// the shard directories its creates need that are not known to exist, and
// as many of changes as fit. It returns how many changes it took and the
// shards it creates.
func (s *FiringStore) batch(fence string, changes []recordChange) (int, []zkclient.Op, []string) {
	ops := []zkclient.Op{zkclient.CheckOp(fence, -1)}
	var records []zkclient.Op
	var shards []string
	s.mu.Lock()
	defer s.mu.Unlock()
	size, n := 0, 0
	for _, c := range changes {
		p := s.nodePath(c.name)
		cost := len(c.data) + 2*len(p)
		if n > 0 && (len(ops)+len(records) >= maxBatchOps || size+cost > maxBatchBytes) {
			break
		}
		n++
		size += cost
		switch {
		case c.data == nil:
			records = append(records, zkclient.DeleteOp(p, -1))
		case c.exists:
			records = append(records, zkclient.SetOp(p, c.data, -1))
		default:
			if shard := c.name[:2]; !s.shards[shard] && !slices.Contains(shards, shard) {
				shards = append(shards, shard)
				ops = append(ops, zkclient.CreateOp(s.shardDir(c.name), nil, s.acl))
			}
			records = append(records, zkclient.CreateOp(p, c.data, s.acl))
		}
	}
	return n, append(ops, records...), shards
}

// ensureDir creates the set's directory once. This is not fenced: an
// empty directory is harmless whoever creates it.
func (s *FiringStore) ensureDir() error {
	s.mu.Lock()
	ready := s.dirReady
	s.mu.Unlock()
	if ready {
		return nil
	}
	if err := s.zk.EnsurePath(s.dir, s.acl); err != nil {
		return fmt.Errorf("creating %s: %w", s.dir, err)
	}
	s.mu.Lock()
	s.dirReady = true
	s.mu.Unlock()
	return nil
}

// explain tells a failed write whose fence is gone (ErrFenced) from one
// that met the set in another state than expected.
func (s *FiringStore) explain(fence string, err error) error {
	if !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("writing the firing set: %w", err)
	}
	// The check or another operation failed: ask the fence alone, in a
	// transaction too, which a server cut off from the quorum cannot
	// answer from stale data.
	if cerr := s.zk.Check(fence, -1); errors.Is(cerr, zk.ErrNoNode) {
		return ErrFenced
	}
	// What this agent knows of the directories is out of date; the next
	// load learns them again.
	s.mu.Lock()
	s.shards = map[string]bool{}
	s.dirReady = false
	s.mu.Unlock()
	return fmt.Errorf("writing the firing set: %w", err)
}

// currentFence returns the fence of the term starting now.
func (s *FiringStore) currentFence() (string, error) {
	f := s.fence()
	if f == "" || !strings.HasPrefix(f, "/") {
		return "", fmt.Errorf("no election node to fence the firing set with (got %q)", f)
	}
	return f, nil
}
