// Package collector keeps an event-driven picture of the configured znodes
// and exports it to Prometheus.
//
// The Watcher reads each configured path once, leaves ZooKeeper watches on
// it and re-reads only what a watch notification names, so a scrape never
// talks to ZooKeeper: the Gatherer and the status page read the Watcher's
// cached snapshot. When the connection is lost, every path is marked stale
// (its compliance becomes Unknown) until it has been read again in the new
// connection; nothing is reported as changed that was not observed.
//
// A max_age check also changes with time alone: the Watcher keeps the
// instant each passing one will fail in a heap served by a single timer,
// and evaluates the path again then, without asking ZooKeeper.
package collector

import (
	"context"
	"errors"
	"maps"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
	"github.com/zk-monitor/zk_monitor/zkclient"
)

// ZooKeeper is what the Watcher needs of a connection; *zkclient.Client
// implements it.
type ZooKeeper interface {
	ChildrenW(path string) ([]string, *zk.Stat, error)
	ExistsW(path string) (bool, *zk.Stat, error)
	GetW(path string) ([]byte, *zk.Stat, error)
	Subscribe(func(zkclient.Event))
	Connected() bool
}

// Listener is told about every path whose compliance result may have
// changed, and about paths that are no longer monitored. It is called from
// the Watcher's goroutines and must not block.
type Listener interface {
	Update(spec config.PathSpec, result compliance.Result)
	Remove(path string)
}

// PathState is an immutable view of one monitored path.
type PathState struct {
	Spec        config.PathSpec
	Observation compliance.Observation
	Result      compliance.Result
	// LastChange is when the observed children, existence or data last
	// changed (zero until the first read).
	LastChange time.Time
	// Pattern is the glob this path was matched by, or "".
	Pattern string
	// Evaluated is the instant Result was evaluated at (max_age depends
	// on it).
	Evaluated time.Time
}

// Unreadable reports whether the path has checks and its last read failed
// (no permission, or any error other than a missing node): the paths that
// raise ZnodeUnreadable. A path without checks is never unreadable, as it
// never alerts.
func (st *PathState) Unreadable() bool {
	return st.Observation.ReadError != "" && st.Spec.HasChecks()
}

// Options configure a Watcher.
type Options struct {
	// Concurrency is how many reads may be in flight at once.
	Concurrency int
	// RetryInterval is how long to wait before re-reading a path whose
	// read failed while connected.
	RetryInterval time.Duration
	Logger        log.Logger
	// Now tells the time of changes and of max_age evaluations; the timer
	// that wakes max_age evaluations runs on the real clock.
	Now func() time.Time
}

// maxTimerWait bounds how long the max_age timer sleeps: deadlines are on
// the wall clock (ZooKeeper's mtime), timers on the monotonic one, so a
// step of the wall clock is noticed within this time.
const maxTimerWait = time.Minute

// Watcher maintains the state of the configured paths.
type Watcher struct {
	zk       ZooKeeper
	logger   log.Logger
	opts     Options
	listener Listener

	mu        sync.RWMutex
	specs     map[string]config.PathSpec // concrete path -> spec
	globs     []config.PathSpec
	dirs      map[string]*globDir // intermediate nodes watched for glob expansion
	states    map[string]*PathState
	sorted    []string // cached sorted keys of states; nil when stale
	inFlight  map[string]bool
	dirty     map[string]bool
	queue     []string
	epoch     uint64 // bumped whenever the connection is lost or re-established
	connected bool
	synced    bool
	syncedCh  chan struct{}
	// gen changes whenever what Snapshot returns may have changed, so
	// that views rendered from a snapshot are rendered once per change.
	gen atomic.Uint64
	// ages holds when each passing max_age check will fail.
	ages *deadlines

	wake     chan struct{}
	agesWake chan struct{} // the earliest max_age deadline changed
}

// globDir is an intermediate znode whose children are matched against the
// next segment of a glob pattern.
type globDir struct {
	pattern config.PathSpec
	depth   int // number of pattern segments this node matches
	matches map[string]bool
}

// NewWatcher returns a Watcher for cfg; listener may be nil.
func NewWatcher(conn ZooKeeper, cfg *config.Config, listener Listener, opts Options) *Watcher {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &Watcher{
		zk:       conn,
		logger:   opts.Logger,
		opts:     opts,
		listener: listener,
		specs:    map[string]config.PathSpec{},
		dirs:     map[string]*globDir{},
		states:   map[string]*PathState{},
		inFlight: map[string]bool{},
		dirty:    map[string]bool{},
		syncedCh: make(chan struct{}),
		ages:     newDeadlines(),
		wake:     make(chan struct{}, 1),
		agesWake: make(chan struct{}, 1),
	}
	w.mu.Lock()
	w.applyConfig(cfg)
	w.mu.Unlock()
	conn.Subscribe(w.onEvent)
	// Under the lock: onEvent may already run. Events about later changes
	// of the connection are delivered after this read, so none is lost.
	w.mu.Lock()
	w.connected = conn.Connected()
	w.mu.Unlock()
	return w
}

// Run reads and watches paths until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := 0; i < w.opts.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(ctx)
		}()
	}
	wg.Go(func() { w.runAges(ctx) })
	if w.zk.Connected() {
		w.resync()
	}
	wg.Wait()
	return nil
}

// Synced is closed once every path has been read at least once, and the
// listener told about it.
func (w *Watcher) Synced() <-chan struct{} { return w.syncedCh }

// Connected reports whether the Watcher currently has a ZooKeeper session.
func (w *Watcher) Connected() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.connected
}

// Generation returns a number that changes whenever what Snapshot returns
// may have changed: a view rendered from a snapshot taken after reading
// generation g stays current while Generation returns g.
func (w *Watcher) Generation() uint64 { return w.gen.Load() }

// Snapshot returns the state of every monitored path, sorted by path. The
// states are shared and must not be modified.
func (w *Watcher) Snapshot() []*PathState {
	w.mu.RLock()
	sorted := w.sorted
	w.mu.RUnlock()
	if sorted == nil {
		w.mu.Lock()
		if w.sorted == nil {
			w.sorted = make([]string, 0, len(w.states))
			for p := range w.states {
				w.sorted = append(w.sorted, p)
			}
			sort.Strings(w.sorted)
		}
		sorted = w.sorted
		w.mu.Unlock()
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]*PathState, 0, len(sorted))
	for _, p := range sorted {
		if st, ok := w.states[p]; ok {
			out = append(out, st)
		}
	}
	return out
}

// SetConfig swaps in a new configuration. Paths whose spec did not change
// keep their state (and any alert); removed paths are reported to the
// listener; new or changed paths are read.
func (w *Watcher) SetConfig(cfg *config.Config) {
	w.mu.Lock()
	removed, changed := w.applyConfig(cfg)
	w.removeLocked(removed)
	w.notifyLocked(changed)
	w.mu.Unlock()
	w.signal()
}

// applyConfig installs cfg and returns the concrete paths that stopped
// being monitored and the states whose spec changed. w.mu must be held.
func (w *Watcher) applyConfig(cfg *config.Config) (removed []string, changed []*PathState) {
	w.specs = map[string]config.PathSpec{}
	w.globs = nil
	for _, spec := range cfg.Paths {
		if spec.IsGlob() {
			w.globs = append(w.globs, spec)
			continue
		}
		w.specs[spec.Path] = spec
	}
	// A glob that is still in the file keeps its expansion and its matches'
	// state; when only its checks or alert settings changed, its matches
	// are changed paths (like a literal path whose spec changed), not
	// removed and found again, so a firing alert keeps its start. A new
	// glob is expanded from its root.
	oldDirs := w.dirs
	w.dirs = map[string]*globDir{}
	keptGlobs := map[string]config.PathSpec{}
	for _, g := range w.globs {
		rootKey := dirKey(g.Path, globRoot(g.Path))
		if old := oldDirs[rootKey]; old != nil {
			keptGlobs[g.Path] = g
			same := old.pattern.Equal(g)
			for key, d := range oldDirs {
				if !strings.HasPrefix(key, dirKeyPrefix+g.Path+dirKeyPrefix) {
					continue
				}
				if same {
					w.dirs[key] = d
					continue
				}
				// A read of the old directory in flight is discarded
				// (readDir checks w.dirs[key] == d): list it again.
				w.dirs[key] = &globDir{pattern: g, depth: d.depth, matches: maps.Clone(d.matches)}
				w.markDirtyLocked(key)
			}
			continue
		}
		w.dirs[rootKey] = &globDir{pattern: g, depth: segments(globRoot(g.Path)), matches: map[string]bool{}}
		w.markDirtyLocked(rootKey)
	}
	var dropped []string
	for p, st := range w.states {
		// w.specs holds the literal paths here; glob matches are added
		// back as they are kept.
		spec, literal := w.specs[p]
		pattern := ""
		if !literal {
			g, kept := keptGlobs[st.Pattern]
			if st.Pattern == "" || !kept {
				delete(w.states, p)
				w.dropAgeLocked(p)
				w.sorted = nil
				removed = append(removed, p)
				dropped = append(dropped, p)
				continue
			}
			spec, pattern = withPath(g, p), st.Pattern
			w.specs[p] = spec
		}
		if st.Pattern == pattern && spec.Equal(st.Spec) {
			continue
		}
		next := *st
		next.Spec, next.Pattern = spec, pattern
		if !readsSame(st.Spec, spec) {
			// What was read does not serve the new checks (data or Stat
			// fields not kept, other children counted): judging them on
			// it could raise a false alert, so nothing is known until the
			// read below.
			next.Observation = compliance.Observation{Stale: st.Observation.Stale}
		}
		w.evaluateLocked(p, &next, w.opts.Now())
		w.states[p] = &next
		changed = append(changed, &next)
		// New checks may need data that was not fetched: read again.
		w.markDirtyLocked(p)
	}
	// A path that stopped being monitored may still match a kept pattern
	// (an exact entry removed from the file, or another pattern's match):
	// list its directory again so that the pattern takes it over.
	for _, p := range dropped {
		for _, key := range w.dirKeysLocked(path.Dir(p)) {
			if d := w.dirs[key]; d.depth == segments(d.pattern.Path)-1 && d.pattern.Match(p) {
				w.markDirtyLocked(key)
			}
		}
	}
	for p, spec := range w.specs {
		if _, ok := w.states[p]; !ok {
			w.states[p] = w.initialState(spec, "")
			w.sorted = nil
			w.markDirtyLocked(p)
		}
	}
	w.gen.Add(1)
	w.checkSyncedLocked()
	return removed, changed
}

func (w *Watcher) initialState(spec config.PathSpec, pattern string) *PathState {
	now := w.opts.Now()
	obs := compliance.Observation{Stale: !w.connected}
	return &PathState{Spec: spec, Observation: obs, Result: compliance.Evaluate(spec, obs, now), Pattern: pattern, Evaluated: now}
}

// evaluateLocked sets st's result at now and keeps its max_age deadline: a
// passing max_age check of a trusted observation is evaluated again when
// it will fail. st is stored as p's state by the caller.
func (w *Watcher) evaluateLocked(p string, st *PathState, now time.Time) {
	st.Result = compliance.Evaluate(st.Spec, st.Observation, now)
	st.Evaluated = now
	obs := st.Observation
	at, ok := compliance.AgeDeadline(st.Spec, obs)
	if !ok || obs.Stale || obs.ReadError != "" || !now.Before(at) {
		w.dropAgeLocked(p)
		return
	}
	if w.ages.set(p, at) {
		w.signalAges()
	}
}

// dropAgeLocked forgets p's max_age deadline.
func (w *Watcher) dropAgeLocked(p string) {
	if w.ages.remove(p) {
		w.signalAges()
	}
}

func (w *Watcher) signalAges() {
	select {
	case w.agesWake <- struct{}{}:
	default:
	}
}

// runAges evaluates paths again when their max_age deadline comes, until
// ctx is done. A single timer serves every path: it is set to the earliest
// deadline, and re-armed whenever that changes.
func (w *Watcher) runAges(ctx context.Context) {
	timer := time.NewTimer(maxTimerWait)
	defer timer.Stop()
	for {
		w.mu.Lock()
		at, ok := w.ages.next()
		now := w.opts.Now()
		w.mu.Unlock()
		wait := maxTimerWait
		if ok {
			wait = min(max(at.Sub(now), 0), maxTimerWait)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-w.agesWake:
		case <-timer.C:
			w.expireAges()
		}
	}
}

// expireAges evaluates again the paths whose max_age deadline has come,
// and tells the listener about those whose result changed, as any other
// change: its hold-downs and alerts treat them alike.
func (w *Watcher) expireAges() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.opts.Now()
	var changed []*PathState
	for _, p := range w.ages.due(now) {
		st, ok := w.states[p]
		if !ok {
			continue
		}
		next := *st
		w.evaluateLocked(p, &next, now)
		if next.Result == st.Result {
			// The wall clock went back: evaluateLocked set the deadline
			// again.
			continue
		}
		w.states[p] = &next
		changed = append(changed, &next)
	}
	if len(changed) > 0 {
		w.gen.Add(1)
	}
	w.notifyLocked(changed)
}

// onEvent runs on the client's dispatch goroutine: record and wake only.
func (w *Watcher) onEvent(ev zkclient.Event) {
	switch ev.Kind {
	case zkclient.SessionUp:
		w.mu.Lock()
		w.connected = true
		w.epoch++
		w.mu.Unlock()
		w.resync()
	case zkclient.SessionDown, zkclient.SessionExpired:
		w.markAllStale()
	case zkclient.NodeChanged:
		w.mu.Lock()
		if _, ok := w.states[ev.Path]; ok {
			w.markDirtyLocked(ev.Path)
		}
		for _, key := range w.dirKeysLocked(ev.Path) {
			w.markDirtyLocked(key)
		}
		w.mu.Unlock()
		w.signal()
	}
}

// dirKeysLocked returns the keys of the glob directories at dir, looked up
// per pattern rather than by scanning every directory: a burst of events
// must stay cheap with large globs.
func (w *Watcher) dirKeysLocked(dir string) []string {
	var keys []string
	for _, g := range w.globs {
		if key := dirKey(g.Path, dir); w.dirs[key] != nil {
			keys = append(keys, key)
		}
	}
	return keys
}

// resync re-reads everything: after a reconnect the library may have failed
// to restore the watches, and after an expiry they are gone.
func (w *Watcher) resync() {
	w.mu.Lock()
	for p := range w.states {
		w.markDirtyLocked(p)
	}
	for key := range w.dirs {
		w.markDirtyLocked(key)
	}
	w.mu.Unlock()
	w.signal()
}

func (w *Watcher) markAllStale() {
	var changed []*PathState
	w.mu.Lock()
	w.connected = false
	w.epoch++
	for p, st := range w.states {
		if st.Observation.Stale {
			continue
		}
		next := *st
		next.Observation.Stale = true
		w.evaluateLocked(p, &next, w.opts.Now())
		w.states[p] = &next
		changed = append(changed, &next)
	}
	w.gen.Add(1)
	w.notifyLocked(changed)
	w.mu.Unlock()
}

// notifyLocked and removeLocked tell the listener while w.mu is held, so
// that it sees every path's changes in the order they were made: a result
// stored after a path was dropped must not reach it after the removal (it
// would resurrect an alert nobody resolves). The listener never blocks and
// never calls back, so holding the lock is safe.
func (w *Watcher) notifyLocked(states []*PathState) {
	if w.listener == nil {
		return
	}
	for _, st := range states {
		w.listener.Update(st.Spec, st.Result)
	}
}

func (w *Watcher) removeLocked(paths []string) {
	if len(paths) > 0 {
		w.gen.Add(1)
	}
	if w.listener == nil {
		return
	}
	for _, p := range paths {
		w.listener.Remove(p)
	}
}

func (w *Watcher) markDirtyLocked(key string) {
	if w.dirty[key] {
		return
	}
	w.dirty[key] = true
	if !w.inFlight[key] {
		w.queue = append(w.queue, key)
	}
}

func (w *Watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// next takes a dirty key that no other worker is reading.
func (w *Watcher) next() (string, uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.connected {
		return "", 0, false
	}
	for len(w.queue) > 0 {
		key := w.queue[0]
		w.queue = w.queue[1:]
		if !w.dirty[key] || w.inFlight[key] {
			continue
		}
		delete(w.dirty, key)
		w.inFlight[key] = true
		if len(w.queue) > 0 {
			// Let another worker pick up the rest.
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
		return key, w.epoch, true
	}
	w.queue = nil
	return "", 0, false
}

func (w *Watcher) done(key string) {
	w.mu.Lock()
	delete(w.inFlight, key)
	if w.dirty[key] {
		w.queue = append(w.queue, key)
	}
	// The read's own check ran while key was still in flight: when it was
	// the last outstanding read, only this check sees the sync complete.
	w.checkSyncedLocked()
	w.mu.Unlock()
	w.signal()
}

func (w *Watcher) work(ctx context.Context) {
	for {
		key, epoch, ok := w.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		if isDirKey(key) {
			w.readDir(ctx, key, epoch)
		} else {
			w.readPath(ctx, key, epoch)
		}
		w.done(key)
	}
}

// connectionError reports errors after which the path is re-read on the
// next session rather than retried now.
func connectionError(err error) bool { return zkclient.IsConnectionError(err) }

// readPath reads one path and leaves watches on it: a child watch when it
// exists (also fires on its deletion), an exists watch when it does not, a
// data watch when the spec checks data.
func (w *Watcher) readPath(ctx context.Context, p string, epoch uint64) {
	w.mu.RLock()
	st, ok := w.states[p]
	w.mu.RUnlock()
	if !ok {
		return
	}
	glob := st.Pattern != ""
	obs := compliance.Observation{Known: true}
	children, stat, err := w.zk.ChildrenW(p)
	switch {
	case errors.Is(err, zk.ErrNoNode) && glob:
		// No exists watch: the directory's child watch sees it return.
		w.vanished(p, epoch)
		return
	case errors.Is(err, zk.ErrNoNode):
		exists, _, err := w.zk.ExistsW(p)
		if err != nil {
			w.readFailed(ctx, p, epoch, st.Spec, err)
			return
		}
		if exists {
			// Created between the two requests: read it again.
			w.mu.Lock()
			w.markDirtyLocked(p)
			w.mu.Unlock()
			return
		}
	case err != nil:
		w.readFailed(ctx, p, epoch, st.Spec, err)
		return
	default:
		obs.Exists = true
		obs.Children = countChildren(st.Spec, children)
		var data []byte
		exists := true
		// A data watch, where a check looks at what writes change: the
		// data itself, or its size and age in the Stat.
		switch {
		case st.Spec.Data != nil:
			data, stat, err = w.zk.GetW(p)
			exists = err == nil
			if errors.Is(err, zk.ErrNoNode) {
				err = nil
			}
		case watchesData(st.Spec):
			// The Stat only: a read of the data would fetch up to a
			// megabyte to learn its size. Should the node vanish between
			// the two requests, this leaves an exists watch on it, which
			// fires and goes when it is created again.
			exists, stat, err = w.zk.ExistsW(p)
		}
		switch {
		case err != nil:
			w.readFailed(ctx, p, epoch, st.Spec, err)
			return
		case !exists && glob:
			w.vanished(p, epoch)
			return
		case !exists:
			obs.Exists, obs.Children = false, 0
		default:
			obs.Data = data
			if st.Spec.ChecksStat() {
				obs.Modified = time.UnixMilli(stat.Mtime)
				obs.DataLength = int(stat.DataLength)
				obs.EphemeralOwner = stat.EphemeralOwner
			}
		}
	}
	w.store(p, epoch, st.Spec, obs)
}

// watchesData reports whether the checks of spec need a data watch: they
// look at what a write of the node changes.
func watchesData(spec config.PathSpec) bool {
	return spec.Data != nil || spec.MaxAge > 0 || spec.MinDataBytes != nil || spec.MaxDataBytes != nil
}

// countChildren returns how many of names count toward spec's children
// and max_children.
func countChildren(spec config.PathSpec, names []string) int {
	if spec.ChildrenMatching == nil {
		return len(names)
	}
	n := 0
	for _, name := range names {
		if spec.ChildrenMatching.MatchString(name) {
			n++
		}
	}
	return n
}

// readsSame reports whether what a read for spec a keeps also serves the
// checks of spec b: the same data fetched and watched, the same Stat
// fields kept and the same children counted.
func readsSame(a, b config.PathSpec) bool {
	matching := func(s config.PathSpec) string {
		if s.ChildrenMatching == nil {
			return ""
		}
		return "/" + s.ChildrenMatching.String()
	}
	return (a.Data != nil) == (b.Data != nil) && watchesData(a) == watchesData(b) && a.ChecksStat() == b.ChecksStat() &&
		matching(a) == matching(b)
}

// vanished handles a glob match that a read found missing: it is dropped
// (see dropVanishedLocked), never evaluated.
func (w *Watcher) vanished(p string, epoch uint64) {
	w.mu.Lock()
	if st, ok := w.states[p]; ok && epoch == w.epoch {
		if st.Pattern == "" {
			// A reload made it an exact path while it was read: read it
			// again as one, with an exists watch.
			w.markDirtyLocked(p)
		} else {
			w.dropVanishedLocked(st.Pattern, p)
		}
	}
	w.mu.Unlock()
	w.signal()
}

func (w *Watcher) readFailed(ctx context.Context, p string, epoch uint64, spec config.PathSpec, err error) {
	if connectionError(err) {
		// SessionUp re-reads it.
		return
	}
	level.Warn(w.logger).Log("msg", "reading znode failed", "path", p, "err", err)
	w.store(p, epoch, spec, compliance.Observation{ReadError: readErrorMessage(err)})
	w.retryLater(ctx, p)
}

func readErrorMessage(err error) string {
	if errors.Is(err, zk.ErrNoAuth) {
		return "not authorized (check --zookeeper_user and the znode's ACL)"
	}
	return strings.TrimPrefix(err.Error(), "zk: ")
}

func (w *Watcher) retryLater(ctx context.Context, key string) {
	go func() {
		t := time.NewTimer(w.opts.RetryInterval)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			w.mu.Lock()
			if _, ok := w.states[key]; ok || w.dirs[key] != nil {
				w.markDirtyLocked(key)
			}
			w.mu.Unlock()
			w.signal()
		}
	}()
}

// store publishes a new observation of p, read for the spec readFor, if it
// was made in the current connection epoch; a read that raced with a
// disconnect is dropped (the path is re-read after the reconnect), and so
// is one that raced with a reload needing other reads.
func (w *Watcher) store(p string, epoch uint64, readFor config.PathSpec, obs compliance.Observation) {
	w.mu.Lock()
	st, ok := w.states[p]
	if !ok || epoch != w.epoch || !readsSame(readFor, st.Spec) {
		// A read made for the spec before a reload that needs other
		// reads would judge the new checks on what they do not look at;
		// the reload marked the path dirty, so it is read again.
		w.mu.Unlock()
		return
	}
	if st.Pattern != "" && obs.Known && !obs.Exists {
		// Read as an exact path, which a reload made a glob match.
		w.dropVanishedLocked(st.Pattern, p)
		w.mu.Unlock()
		w.signal()
		return
	}
	prev := st.Observation
	if sameObservation(prev, obs) {
		// A re-read that found nothing new (after a reconnect, say) keeps
		// the state as it is: scrapes reuse its series.
		w.checkSyncedLocked()
		w.mu.Unlock()
		return
	}
	next := *st
	next.Observation = obs
	now := w.opts.Now()
	if !prev.Known || prev.Exists != obs.Exists || prev.Children != obs.Children || string(prev.Data) != string(obs.Data) ||
		!prev.Modified.Equal(obs.Modified) {
		next.LastChange = now
	}
	w.evaluateLocked(p, &next, now)
	changed := next.Result != st.Result || prev.Stale
	w.states[p] = &next
	w.gen.Add(1)
	if changed || !prev.Known {
		w.notifyLocked([]*PathState{&next})
	}
	// After the listener heard of the path: once Synced is closed, it has
	// heard of every path.
	w.checkSyncedLocked()
	w.mu.Unlock()
}

func sameObservation(a, b compliance.Observation) bool {
	return a.Known == b.Known && a.Stale == b.Stale && a.Exists == b.Exists && a.Children == b.Children &&
		a.ReadError == b.ReadError && string(a.Data) == string(b.Data) &&
		a.Modified.Equal(b.Modified) && a.DataLength == b.DataLength && a.EphemeralOwner == b.EphemeralOwner
}

func (w *Watcher) checkSyncedLocked() {
	if w.synced {
		return
	}
	for key := range w.dirs {
		if w.dirty[key] || w.inFlight[key] {
			return
		}
	}
	for _, st := range w.states {
		if !st.Observation.Known && st.Observation.ReadError == "" {
			return
		}
	}
	w.synced = true
	close(w.syncedCh)
}
