package collector

import (
	"context"
	"errors"
	"path"
	"strings"

	"github.com/go-kit/log/level"
	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/config"
)

// Glob patterns such as /services/*/instances are expanded under watches:
// every znode that matches a prefix of the pattern is listed with a child
// watch, and the znodes that match the whole pattern become monitored
// paths while they exist.

// dirKeyPrefix marks keys of the work queue that name a glob directory
// rather than a monitored path; it cannot start a znode path.
const dirKeyPrefix = "\x00"

func dirKey(pattern, dir string) string { return dirKeyPrefix + pattern + dirKeyPrefix + dir }

func isDirKey(key string) bool { return strings.HasPrefix(key, dirKeyPrefix) }

func dirPath(key string) string { return key[strings.LastIndex(key, dirKeyPrefix)+1:] }

func splitPath(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

func segments(p string) int { return len(splitPath(p)) }

func joinPath(dir, child string) string {
	if dir == "/" {
		return "/" + child
	}
	return dir + "/" + child
}

// globRoot is the longest prefix of pattern without wildcards.
func globRoot(pattern string) string {
	root := "/"
	for _, seg := range splitPath(pattern) {
		if strings.ContainsAny(seg, "*?[\\") {
			break
		}
		root = joinPath(root, seg)
	}
	return root
}

func withPath(spec config.PathSpec, p string) config.PathSpec {
	spec.Path = p
	return spec
}

// readDir lists a glob directory and updates what it matches.
func (w *Watcher) readDir(ctx context.Context, key string, epoch uint64) {
	w.mu.RLock()
	d := w.dirs[key]
	w.mu.RUnlock()
	if d == nil {
		return
	}
	dir := dirPath(key)
	children, _, err := w.zk.ChildrenW(dir)
	if errors.Is(err, zk.ErrNoNode) && d.depth > segments(globRoot(d.pattern.Path)) {
		// Below the root: its parent's child watch sees it return, so no
		// exists watch is left on it (one per vanished directory would
		// pile up under churn).
		w.mu.Lock()
		if epoch == w.epoch && w.dirs[key] == d {
			w.dropVanishedLocked(d.pattern.Path, dir)
		}
		w.mu.Unlock()
		w.signal()
		return
	}
	if errors.Is(err, zk.ErrNoNode) {
		var exists bool
		exists, _, err = w.zk.ExistsW(dir)
		if err == nil && exists {
			w.mu.Lock()
			w.markDirtyLocked(key)
			w.mu.Unlock()
			return
		}
		children = nil
	}
	if err != nil {
		if !connectionError(err) {
			// Not authorized, for one: try again later, as for a path.
			level.Warn(w.logger).Log("msg", "listing glob directory failed", "path", dir, "pattern", d.pattern.Path, "err", err)
			w.retryLater(ctx, key)
		}
		return
	}
	segs := splitPath(d.pattern.Path)
	matches := map[string]bool{}
	for _, c := range children {
		if ok, _ := path.Match(segs[d.depth], c); ok {
			matches[joinPath(dir, c)] = true
		}
	}
	last := d.depth == len(segs)-1

	var removedPaths []string
	w.mu.Lock()
	if epoch != w.epoch || w.dirs[key] != d {
		w.mu.Unlock()
		return
	}
	for m := range d.matches {
		if !matches[m] {
			removedPaths = append(removedPaths, w.dropMatchLocked(d.pattern.Path, m, d.depth+1, last)...)
		}
	}
	for m := range matches {
		if last {
			// Monitored already: by this pattern, or by an exact entry in
			// the file or another pattern, which win. A match that was seen
			// before but is not monitored (its exact entry was removed by a
			// reload) is taken over.
			if _, monitored := w.specs[m]; monitored {
				continue
			}
			spec := withPath(d.pattern, m)
			w.specs[m] = spec
			w.states[m] = w.initialState(spec, d.pattern.Path)
			w.sorted = nil
			w.gen.Add(1)
			w.markDirtyLocked(m)
		} else {
			if d.matches[m] {
				continue
			}
			sub := dirKey(d.pattern.Path, m)
			w.dirs[sub] = &globDir{pattern: d.pattern, depth: d.depth + 1, matches: map[string]bool{}}
			w.markDirtyLocked(sub)
		}
	}
	d.matches = matches
	w.checkSyncedLocked()
	w.removeLocked(removedPaths)
	w.mu.Unlock()
	w.signal()
}

// dropMatchLocked forgets a match of pattern that disappeared, and
// everything below it that the same pattern matched; depth is the number
// of pattern segments m matches, last whether it matches them all.
func (w *Watcher) dropMatchLocked(pattern, m string, depth int, last bool) []string {
	if last {
		st, ok := w.states[m]
		if !ok || st.Pattern != pattern {
			return nil
		}
		delete(w.states, m)
		delete(w.specs, m)
		w.dropAgeLocked(m)
		w.sorted = nil
		return []string{m}
	}
	sub := dirKey(pattern, m)
	d := w.dirs[sub]
	delete(w.dirs, sub)
	if d == nil {
		return nil
	}
	var removed []string
	subLast := depth == segments(pattern)-1
	for child := range d.matches {
		removed = append(removed, w.dropMatchLocked(pattern, child, depth+1, subLast)...)
	}
	return removed
}

// dropVanishedLocked drops m, a match of pattern or a directory below the
// pattern's root, that a read found missing, with everything matched below
// it, and tells the listener. A match is monitored only while it exists:
// evaluated like an exact path ("missing = 0 children") it fired a false
// alert for most matches deleted together with their parents, because the
// match's own watch tends to fire before its directory is listed again.
// That directory is listed again now instead, so that m, if created anew
// meanwhile, is found again.
func (w *Watcher) dropVanishedLocked(pattern, m string) {
	key := dirKey(pattern, path.Dir(m))
	if d := w.dirs[key]; d != nil {
		delete(d.matches, m)
		w.markDirtyLocked(key)
	}
	depth := segments(m)
	removed := w.dropMatchLocked(pattern, m, depth, depth == segments(pattern))
	w.checkSyncedLocked()
	w.removeLocked(removed)
}
