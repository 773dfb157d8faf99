package cluster

import "path"

// FencePath returns the ZooKeeper path of the election node the current
// term rests on, "" when this agent does not lead. The node exists exactly
// as long as the term may in ZooKeeper: a write sent in a transaction that
// checks it first (a multi with a check operation) cannot succeed once
// another agent may lead, however late it reaches the server. Called from
// onLead, it names that call's term: terms never overlap.
func (c *Cluster) FencePath() string {
	t := c.lease.current()
	if t == nil {
		return ""
	}
	return path.Join(c.ws.election, t.node)
}
