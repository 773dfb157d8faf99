package alerting

import (
	"time"

	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// phase is where a path stands in its alert's life.
type phase int

const (
	// phaseIdle: no alert.
	phaseIdle phase = iota
	// phasePending: an Error was seen, the hold-down runs.
	phasePending
	// phaseFiring: the alert fires.
	phaseFiring
)

// pathState is what the engine knows about one path.
type pathState struct {
	spec  config.PathSpec
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

func (p *pathState) deadline() time.Time { return p.errorSince.Add(p.spec.CancelTimeout) }

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
		p = &pathState{state: compliance.Unknown}
		e.paths[spec.Path] = p
	}
	p.spec = spec
	p.state = res.State
	if res.State == compliance.Error {
		p.message = res.Message
	}

	switch p.phase {
	case phaseIdle:
		if res.State == compliance.Error {
			p.phase = phasePending
			p.errorSince = now
			p.holdExpired = false
			return e.fireIfDue(p, now)
		}
	case phasePending:
		switch res.State {
		case compliance.OK:
			// Back in spec inside the hold-down: cancel silently.
			p.phase = phaseIdle
			p.holdExpired = false
		case compliance.Error:
			if p.holdExpired {
				return e.fire(p, now)
			}
			// The hold-down may have been shortened by a reload.
			return e.fireIfDue(p, now)
		}
	case phaseFiring:
		switch res.State {
		case compliance.OK:
			return e.resolve(p, now)
		case compliance.Error:
			return e.refresh(p, now)
		}
	}
	return nil
}

// remove forgets path, resolving its alert if it fires.
func (e *engine) remove(path string, now time.Time) []*alert {
	p, ok := e.paths[path]
	if !ok {
		return nil
	}
	var out []*alert
	if p.phase == phaseFiring {
		out = e.resolve(p, now)
	}
	delete(e.paths, path)
	return out
}

// advance fires the hold-downs that ended by now.
func (e *engine) advance(now time.Time) []*alert {
	var out []*alert
	for _, p := range e.paths {
		if p.phase != phasePending || p.holdExpired || now.Before(p.deadline()) {
			continue
		}
		if p.state == compliance.Error {
			out = append(out, e.fire(p, now)...)
			continue
		}
		// Unknown decides nothing: wait for the next real observation.
		p.holdExpired = true
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
		if p.phase != phasePending || p.holdExpired {
			continue
		}
		if d := p.deadline(); !found || d.Before(next) {
			next, found = d, true
		}
	}
	return next, found
}

// snapshot returns the whole current state: the firing alerts and the
// resolved ones still being resent.
func (e *engine) snapshot() []*alert {
	out := make([]*alert, 0, len(e.resolved)+len(e.paths))
	for _, a := range e.resolved {
		out = append(out, a)
	}
	for _, p := range e.paths {
		if p.phase == phaseFiring {
			out = append(out, p.alert)
		}
	}
	return out
}

// firing returns the number of firing alerts.
func (e *engine) firing() int { return e.nFiring }

func (e *engine) fireIfDue(p *pathState, now time.Time) []*alert {
	if now.Before(p.deadline()) {
		return nil
	}
	return e.fire(p, now)
}

// fire turns p's pending alert into a firing one.
func (e *engine) fire(p *pathState, now time.Time) []*alert {
	a, invalid := e.builder.build(p.spec, p.message, now)
	e.reportInvalid(p.spec.Path, invalid)
	if p.phase != phaseFiring {
		e.nFiring++
	}
	p.phase = phaseFiring
	p.holdExpired = false
	p.alert = a
	// The same label set may still be resent as resolved: it fires again.
	delete(e.resolved, a.fingerprint)
	return []*alert{a}
}

// refresh rebuilds a firing alert from the latest spec and message and
// returns what must be sent if it changed.
func (e *engine) refresh(p *pathState, now time.Time) []*alert {
	a, invalid := e.builder.build(p.spec, p.message, p.alert.startsAt)
	if a.sameContent(p.alert) {
		return nil
	}
	e.reportInvalid(p.spec.Path, invalid)
	var out []*alert
	if a.fingerprint != p.alert.fingerprint {
		// Other labels make another alert: end the old one.
		old := p.alert.resolvedAt(now)
		e.resolved[old.fingerprint] = old
		delete(e.resolved, a.fingerprint)
		out = append(out, old)
	}
	p.alert = a
	return append(out, a)
}

// resolve ends p's firing alert.
func (e *engine) resolve(p *pathState, now time.Time) []*alert {
	r := p.alert.resolvedAt(now)
	e.resolved[r.fingerprint] = r
	e.nFiring--
	p.phase = phaseIdle
	p.alert = nil
	return []*alert{r}
}

func (e *engine) reportInvalid(path string, invalid []invalidLabel) {
	if len(invalid) > 0 && e.onInvalid != nil {
		e.onInvalid(path, invalid)
	}
}
