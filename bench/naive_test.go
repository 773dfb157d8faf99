package bench

import (
	"errors"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zk-monitor/zk_monitor/collector"
	"github.com/zk-monitor/zk_monitor/compliance"
	"github.com/zk-monitor/zk_monitor/config"
)

// pollingSource is the naive design zk_monitor avoids: it has no watches
// and no cache, and lists the children of every configured path, one after
// the other, each time it is asked. Wrapped in collector.New it exports
// exactly the series of the real collector, so a scrape of both differs
// only in where the numbers come from.
type pollingSource struct {
	zk interface {
		Children(path string) ([]string, *zk.Stat, error)
	}
	specs []config.PathSpec
}

// Snapshot implements collector.Snapshotter with one Children request per
// path.
func (s *pollingSource) Snapshot() []*collector.PathState {
	out := make([]*collector.PathState, 0, len(s.specs))
	for _, spec := range s.specs {
		obs := compliance.Observation{Known: true}
		children, _, err := s.zk.Children(spec.Path)
		switch {
		case errors.Is(err, zk.ErrNoNode):
		case err != nil:
			obs = compliance.Observation{ReadError: err.Error()}
		default:
			obs.Exists, obs.Children = true, len(children)
		}
		now := time.Now()
		out = append(out, &collector.PathState{Spec: spec, Observation: obs, Result: compliance.Evaluate(spec, obs, now), Evaluated: now})
	}
	return out
}
