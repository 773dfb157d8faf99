package alerting

import (
	"maps"
	"time"

	"github.com/zk-monitor/zk_monitor/compliance"
)

// recordKey names one alert of one path: what the firing set keeps a
// record of.
type recordKey struct {
	kind kind
	path string
}

func (a *alert) key() recordKey { return recordKey{kind: a.kind, path: a.path} }

// withStart returns a copy of the alert starting at t.
func (a *alert) withStart(t time.Time) *alert {
	c := *a
	c.startsAt = t
	return &c
}

// firingAlert returns the firing alert of key, or nil.
func (e *engine) firingAlert(key recordKey) *alert {
	p, ok := e.paths[key.path]
	if !ok || p.tracks[key.kind].phase != phaseFiring {
		return nil
	}
	return p.tracks[key.kind].alert
}

// firingKeys returns the key of every firing alert.
func (e *engine) firingKeys() []recordKey {
	keys := make([]recordKey, 0, e.nFiring)
	for path, p := range e.paths {
		for k := range numKinds {
			if p.tracks[k].phase == phaseFiring {
				keys = append(keys, recordKey{kind: k, path: path})
			}
		}
	}
	return keys
}

// adopt merges the alerts an earlier leader recorded as firing, when this
// agent starts to lead: what Alertmanager shows must not depend on which
// agent leads, nor on when it started to watch. A recorded alert
//
//   - of a path whose alert fires here too keeps its start;
//   - of a path whose state here is Error (hold-down running), or Unknown
//     (not read yet, stale, unreadable), fires with its recorded start: the
//     earlier leader saw the hold-down end, and Unknown decides nothing;
//   - of a path that is OK here is resolved;
//   - of a path this agent has not heard of fires as recorded, until the
//     path is reported, or is resolved once every monitored path has been
//     (allReported: the path is no longer monitored).
//
// A recorded label set that differs from what this agent would send (a
// configuration change) is resolved, and the alert fires with the new
// labels and the recorded start, as after a reload. The changes are in
// the snapshot the new leader sends first.
func (e *engine) adopt(recorded []*alert, now time.Time) {
	for _, r := range recorded {
		p, ok := e.paths[r.path]
		if !ok {
			if e.allReported {
				e.endRecorded(r, now)
				continue
			}
			p = &pathState{}
			e.paths[r.path] = p
		}
		t := &p.tracks[r.kind]
		switch {
		case t.phase == phaseFiring:
			if t.alert.fingerprint != r.fingerprint {
				e.endRecorded(r, now)
			}
			t.alert = t.alert.withStart(r.startsAt)
		case !p.reported:
			t.phase = phaseFiring
			t.alert = e.sentByUs(r)
			e.nFiring++
		case t.state == compliance.OK:
			e.endRecorded(r, now)
		default:
			msg := t.message
			if msg == "" {
				msg = r.annotations[annotationSummary]
			}
			a, invalid := e.builder.buildKind(r.kind, p.spec, msg, r.startsAt)
			e.reportInvalid(r.path, invalid)
			if a.fingerprint != r.fingerprint {
				e.endRecorded(r, now)
			}
			t.phase = phaseFiring
			t.holdExpired = false
			t.alert = a
			e.nFiring++
			delete(e.resolved, a.fingerprint)
		}
	}
}

// sentByUs returns r with this agent as its agent annotation.
func (e *engine) sentByUs(r *alert) *alert {
	if e.builder.agent == "" {
		return r
	}
	c := *r
	c.annotations = maps.Clone(r.annotations)
	c.annotations[annotationAgent] = e.builder.agent
	return &c
}

// endRecorded resolves a recorded alert that no path here fires.
func (e *engine) endRecorded(r *alert, now time.Time) {
	ended := e.sentByUs(r).resolvedAt(now)
	e.resolved[ended.fingerprint] = ended
}

// reportedAll records that every monitored path has been updated at least
// once, and resolves the adopted alerts of paths that were not: they are
// no longer monitored.
func (e *engine) reportedAll(now time.Time) []*alert {
	e.allReported = true
	var out []*alert
	for path, p := range e.paths {
		if !p.reported {
			out = append(out, e.remove(path, now)...)
		}
	}
	return out
}
