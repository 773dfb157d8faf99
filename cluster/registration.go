package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/zkclient"
)

// registration is the JSON stored in <workspace>/agents/<agent>. "pid" and
// "created" (local time, "YYYY-mm-dd HH:MM:SS") have the shape the original
// Python zkmonitor wrote; the rest is new.
type registration struct {
	Agent     string `json:"agent"`
	PID       int    `json:"pid"`
	Created   string `json:"created"`
	StartedAt string `json:"started_at"` // RFC 3339
	Version   string `json:"version"`
	WebURL    string `json:"web_url"`
}

func newRegistration(agent string, pid int, started time.Time, version, webURL string) registration {
	return registration{
		Agent:     agent,
		PID:       pid,
		Created:   started.Local().Format("2006-01-02 15:04:05"),
		StartedAt: started.Format(time.RFC3339),
		Version:   version,
		WebURL:    webURL,
	}
}

func (r registration) encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding agent registration: %w", err)
	}
	return b, nil
}

// registrar keeps this agent's ephemeral registration in place, in every
// session and whenever someone deletes it, and the list of registered
// agents current (with a watch on the agents directory). Its loop owns
// everything but wake.
type registrar struct {
	client *zkclient.Client
	ws     workspace
	path   string // <workspace>/agents/<agent>
	data   []byte
	view   *view
	logger log.Logger
	wake   wakeup

	ready       bool  // the agents directory exists
	session     int64 // the session the fields below belong to
	registered  bool  // our node exists in session
	warnedOwner int64 // the other session holding our name, once warned about
}

func newRegistrar(client *zkclient.Client, ws workspace, agent string, data []byte, v *view, logger log.Logger) *registrar {
	return &registrar{client: client, ws: ws, path: ws.agents + "/" + agent, data: data, view: v, logger: logger, wake: newWakeup()}
}

func (r *registrar) run(ctx context.Context) { repeat(ctx, r.wake, r.logger, r.round) }

// round re-reads the agents, leaving a watch, and registers this agent if
// its node is missing.
func (r *registrar) round(context.Context) error {
	session := r.client.SessionID()
	if !r.client.Connected() || session == 0 {
		return nil // a session event wakes us
	}
	if session != r.session {
		// Our node, if any, died with the old session.
		r.session, r.registered = session, false
	}
	if !r.ready {
		if err := r.ws.ensure(r.client, r.ws.agents); err != nil {
			return err
		}
		r.ready = true
	}
	agents, _, err := r.client.ChildrenW(r.ws.agents)
	if err != nil {
		r.ready = r.ready && !errors.Is(err, zk.ErrNoNode)
		return fmt.Errorf("listing %s: %w", r.ws.agents, err)
	}
	slices.Sort(agents)
	r.view.setAgents(agents)
	if r.registered && slices.Contains(agents, r.view.agent) {
		return nil
	}
	// Not registered yet in this session, or deleted under us.
	return r.register(session)
}

// register creates the agent's node unless it already exists in this
// session (a create whose reply was lost). A node of the same name held by
// another session (a previous run of this agent that has not expired yet,
// or another agent with the same name) is waited out: the agents watch
// fires when it goes.
func (r *registrar) register(session int64) error {
	_, err := r.client.Create(r.path, r.data, zk.FlagEphemeral, r.ws.acl)
	switch {
	case err == nil:
		level.Info(r.logger).Log("msg", "registered agent", "path", r.path)
	case errors.Is(err, zk.ErrNodeExists):
		ok, stat, err := r.client.Exists(r.path)
		if err != nil {
			return fmt.Errorf("checking %s: %w", r.path, err)
		}
		if !ok {
			return errAgain
		}
		if stat.EphemeralOwner != session {
			if r.warnedOwner != stat.EphemeralOwner {
				r.warnedOwner = stat.EphemeralOwner
				level.Warn(r.logger).Log("msg", "agent name already registered by another ZooKeeper session; waiting for that node to go",
					"path", r.path, "owner", fmt.Sprintf("0x%x", stat.EphemeralOwner))
			}
			return nil
		}
	default:
		r.ready = r.ready && !errors.Is(err, zk.ErrNoNode)
		return fmt.Errorf("registering %s: %w", r.path, err)
	}
	// A create queued while disconnected may have run in a newer session:
	// the next round sorts that out.
	r.registered = r.client.SessionID() == session
	return nil
}

// leave deletes the registration, after the loop returned.
func (r *registrar) leave() {
	if !r.registered || r.session != r.client.SessionID() {
		return
	}
	if err := r.client.Delete(r.path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		level.Warn(r.logger).Log("msg", "deleting agent registration failed", "path", r.path, "err", err)
	}
	r.registered = false
}
