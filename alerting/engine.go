package alerting

import (
	"time"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// phase is where an alert stands in its life.
type phase int

const (
	// phaseIdle: no alert.
	phaseIdle phase = iota
	// phasePending: an Error was seen, the hold-down runs.
	phasePending
	// phaseFiring: the alert fires.
	phaseFiring
)

// track is what the engine knows about one kind of alert of one path.
type track struct {
	// state is the last observed state deciding this kind.
	state compliance.State
	// message is the last Error message.
	message string
	phase   phase
	// errorSince is when the hold-down started (phasePending).
	errorSince time.Time
	// holdExpired: the hold-down ended while the state was Unknown; the
	// next Error fires at once.
	holdExpired bool
	// alert is the firing alert (phaseFiring).
	alert *alert
}

// pathState is what the engine knows about one path.
type pathState struct {
	spec config.PathSpec
	// reported: an update was seen; a path adopted from the recorded firing
	// set has none until the watcher reports it.
	reported bool
	tracks   [numKinds]track
}

func (p *pathState) deadline(t *track) time.Time { return t.errorSince.Add(p.spec.CancelTimeout) }

// engine is the per-path transition engine. It is not safe for concurrent
// use; Alerter serialises access. Its methods return the alerts to deliver
// at once.
type engine struct {
	builder           alertBuilder
	resolvedResendFor time.Duration
	// onInvalid is told about labels left out of an alert about to be sent.
	onInvalid func(path string, invalid []invalidLabel)

	paths map[string]*pathState
	// resolved holds resolved alerts still being resent, by fingerprint.
	resolved map[uint64]*alert
	nFiring  int
	// allReported: every monitored path has been updated at least once, so
	// a path the engine does not know is not monitored.
	allReported bool
}

func newEngine(b alertBuilder, resolvedResendFor time.Duration, onInvalid func(string, []invalidLabel)) *engine {
	return &engine{
		builder:           b,
		resolvedResendFor: resolvedResendFor,
		onInvalid:         onInvalid,
		paths:             map[string]*pathState{},
		resolved:          map[uint64]*alert{},
	}
}

// update records a new compliance result for spec.Path.
func (e *engine) update(spec config.PathSpec, res compliance.Result, now time.Time) []*alert {
	p, ok := e.paths[spec.Path]
	if !ok {
		p = &pathState{}
		e.paths[spec.Path] = p
	}
	p.spec = spec
	p.reported = true
	var out []*alert
	for k := range numKinds {
		out = append(out, e.observe(p, k, k.observed(res), res.Message, now)...)
	}
	return out
}

// observe applies one observed state to the track of kind k.
func (e *engine) observe(p *pathState, k kind, state compliance.State, msg string, now time.Time) []*alert {
	t := &p.tracks[k]
	t.state = state
	if state == compliance.Error {
		t.message = msg
	}

	switch t.phase {
	case phaseIdle:
		if state == compliance.Error {
			t.phase = phasePending
			t.errorSince = now
			t.holdExpired = false
			return e.fireIfDue(p, k, now)
		}
	case phasePending:
		switch state {
		case compliance.OK:
			// Back in spec inside the hold-down: cancel silently.
			t.phase = phaseIdle
			t.holdExpired = false
		case compliance.Error:
			if t.holdExpired {
				return e.fire(p, k, now)
			}
			// The hold-down may have been shortened by a reload.
			return e.fireIfDue(p, k, now)
		}
	case phaseFiring:
		switch state {
		case compliance.OK:
			return e.resolve(p, k, now)
		case compliance.Error:
			return e.refresh(p, k, now)
		}
	}
	return nil
}

// remove forgets path, resolving its alerts that fire.
func (e *engine) remove(path string, now time.Time) []*alert {
	p, ok := e.paths[path]
	if !ok {
		return nil
	}
	var out []*alert
	for k := range numKinds {
		if p.tracks[k].phase == phaseFiring {
			out = append(out, e.resolve(p, k, now)...)
		}
	}
	delete(e.paths, path)
	return out
}

// advance fires the hold-downs that ended by now.
func (e *engine) advance(now time.Time) []*alert {
	var out []*alert
	for _, p := range e.paths {
		for k := range numKinds {
			t := &p.tracks[k]
			if t.phase != phasePending || t.holdExpired || now.Before(p.deadline(t)) {
				continue
			}
			if t.state == compliance.Error {
				out = append(out, e.fire(p, k, now)...)
				continue
			}
			// Unknown decides nothing: wait for the next real observation.
			t.holdExpired = true
		}
	}
	return out
}

// expire forgets resolved alerts that have been resent long enough.
func (e *engine) expire(now time.Time) {
	for fp, a := range e.resolved {
		if !now.Before(a.endsAt.Add(e.resolvedResendFor)) {
			delete(e.resolved, fp)
		}
	}
}

// nextDeadline returns the end of the earliest running hold-down.
func (e *engine) nextDeadline() (time.Time, bool) {
	var next time.Time
	found := false
	for _, p := range e.paths {
		for k := range numKinds {
			t := &p.tracks[k]
			if t.phase != phasePending || t.holdExpired {
				continue
			}
			if d := p.deadline(t); !found || d.Before(next) {
				next, found = d, true
			}
		}
	}
	return next, found
}

// snapshot returns the whole current state: the firing alerts and the
// resolved ones still being resent.
func (e *engine) snapshot() []*alert {
	out := make([]*alert, 0, len(e.resolved)+e.nFiring)
	for _, a := range e.resolved {
		out = append(out, a)
	}
	for _, p := range e.paths {
		for k := range numKinds {
			if p.tracks[k].phase == phaseFiring {
				out = append(out, p.tracks[k].alert)
			}
		}
	}
	return out
}

// firing returns the number of firing alerts.
func (e *engine) firing() int { return e.nFiring }

func (e *engine) fireIfDue(p *pathState, k kind, now time.Time) []*alert {
	if now.Before(p.deadline(&p.tracks[k])) {
		return nil
	}
	return e.fire(p, k, now)
}

// fire turns the pending alert of kind k into a firing one.
func (e *engine) fire(p *pathState, k kind, now time.Time) []*alert {
	t := &p.tracks[k]
	a, invalid := e.builder.buildKind(k, p.spec, t.message, now)
	e.reportInvalid(p.spec.Path, invalid)
	if t.phase != phaseFiring {
		e.nFiring++
	}
	t.phase = phaseFiring
	t.holdExpired = false
	t.alert = a
	// The same label set may still be resent as resolved: it fires again.
	delete(e.resolved, a.fingerprint)
	return []*alert{a}
}

// refresh rebuilds a firing alert from the latest spec and message and
// returns what must be sent if it changed.
func (e *engine) refresh(p *pathState, k kind, now time.Time) []*alert {
	t := &p.tracks[k]
	a, invalid := e.builder.buildKind(k, p.spec, t.message, t.alert.startsAt)
	if a.sameContent(t.alert) {
		return nil
	}
	e.reportInvalid(p.spec.Path, invalid)
	var out []*alert
	if a.fingerprint != t.alert.fingerprint {
		// Other labels make another alert: end the old one.
		old := t.alert.resolvedAt(now)
		e.resolved[old.fingerprint] = old
		delete(e.resolved, a.fingerprint)
		out = append(out, old)
	}
	t.alert = a
	return append(out, a)
}

// resolve ends the firing alert of kind k.
func (e *engine) resolve(p *pathState, k kind, now time.Time) []*alert {
	t := &p.tracks[k]
	r := t.alert.resolvedAt(now)
	e.resolved[r.fingerprint] = r
	e.nFiring--
	t.phase = phaseIdle
	t.alert = nil
	return []*alert{r}
}

func (e *engine) reportInvalid(path string, invalid []invalidLabel) {
	if len(invalid) > 0 && e.onInvalid != nil {
		e.onInvalid(path, invalid)
	}
}
