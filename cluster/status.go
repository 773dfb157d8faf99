package cluster

import "sync"

// Status describes the cluster as this agent sees it, for /status.
type Status struct {
	Name     string   `json:"name"`
	Agent    string   `json:"agent"`
	Leader   string   `json:"leader"`
	Agents   []string `json:"agents"`
	IsLeader bool     `json:"is_leader"`
}

// view is what the loops last saw of the cluster: the registered agents
// (registrar) and the agent holding the lowest election node (election).
type view struct {
	name, agent string
	metrics     *metrics

	mu         sync.Mutex
	agents     []string
	leaderNode string
	leaderName string
}

func (v *view) setAgents(agents []string) {
	v.mu.Lock()
	v.agents = agents
	v.mu.Unlock()
	v.metrics.agents.Set(float64(len(agents)))
}

// leader returns the lowest election node last seen.
func (v *view) leader() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.leaderNode
}

// setLeader records the agent name stored in the lowest election node.
func (v *view) setLeader(node, name string) {
	v.mu.Lock()
	prev := v.leaderNode
	v.leaderNode, v.leaderName = node, name
	v.mu.Unlock()
	if prev != "" && prev != node {
		v.metrics.leaderChanges.Inc()
	}
}

func (v *view) status(leading bool) Status {
	v.mu.Lock()
	defer v.mu.Unlock()
	return Status{
		Name:     v.name,
		Agent:    v.agent,
		Leader:   v.leaderName,
		Agents:   append(make([]string, 0, len(v.agents)), v.agents...),
		IsLeader: leading,
	}
}
