// Package alerting turns the compliance of watched znodes into alerts and
// delivers them to Alertmanager through its API v2.
//
// # Transitions
//
// A path can raise two alerts, each with a life of its own (below, "the
// state" is the compliance state for the first and the read state for the
// second):
//
//   - ZnodeNotCompliant: its checks fail. The state is the compliance
//     result: OK, Error or Unknown.
//   - ZnodeUnreadable: a path with checks cannot be read (no permission,
//     or any error other than a missing node). The state is the result's
//     Read: Error when the last read failed, OK after a successful read,
//     Unknown otherwise: no checks (such a path stays silent), never read,
//     or the connection to ZooKeeper lost since (a lost connection is not a
//     failed read). While a path cannot be read its compliance is Unknown,
//     so a ZnodeNotCompliant alert that fired before keeps firing beside
//     it.
//
// The engine keeps, per path and alert, the last observed state and the
// alert phase (idle, pending, firing):
//
//   - Error while idle starts the path's hold-down (cancel_timeout). When it
//     ends with the path still in Error, the alert fires. A zero hold-down
//     fires at once.
//   - OK during the hold-down cancels it silently; nothing is sent.
//   - OK while firing resolves the alert: it is sent at once with
//     endsAt = now, and resent for Options.ResolvedResendFor.
//   - Unknown (no checks, ZooKeeper not connected, stale data) never fires
//     and never resolves. A firing alert stays firing and keeps being
//     resent. A running hold-down keeps running (Unknown pauses nothing),
//     but Unknown decides nothing either: if the state is still Unknown
//     when the hold-down ends, the alert does not fire; the path waits, and
//     fires at once on the next observed Error (the hold-down has then
//     elapsed with no OK seen) or goes back to idle on the next OK.
//
// Any change to a firing alert (its summary, or the path's labels after a
// configuration reload) is sent at once. A label change makes it a
// different alert for Alertmanager, so the old label set is resolved and
// the new one fires, keeping the original start time. A path removed from
// the configuration resolves its alerts.
//
// # Alerts
//
// Both alerts carry the labels path, cluster, severity (default
// "warning"), email (comma-joined), slack_channel and hipchat_room when set,
// plus the path's extra labels, so that Alertmanager routes them alike;
// these cannot replace alertname, path or cluster. Nothing per agent is in
// the labels, so a new leader sends the very same alert (same fingerprint).
// Annotations are summary, description, agent and runbook_url; a
// ZnodeUnreadable alert's summary is why the read failed, and it has no
// runbook_url (the path's summary and runbook are about its checks).
// Labels whose name is not [a-zA-Z_][a-zA-Z0-9_]* (what Alertmanager 0.25
// accepts) or whose value is not valid UTF-8 are dropped, logged and
// counted; labels with an empty value are left out, as Prometheus does.
//
// # Delivery
//
// Every agent runs the engine (Update, Remove, Run), so a follower knows the
// current state when it becomes leader. Only while a Lead context is live
// are alerts delivered: on entry the whole current state is queued at once,
// and when the context ends, sending stops, in-flight requests are
// cancelled and the queues are emptied (the next leader resends
// everything, so these are not counted as dropped).
//
// # The firing set
//
// A follower's engine may not know what fires: it may have restarted (its
// hold-downs start again) or not have read a path yet. So the leader keeps
// the firing alerts in ZooKeeper (FiringStore, <workspace>/firing), and a
// new leader takes them over: right after sending its own state it reads
// them, merges them into its engine and sends the whole state again. A
// recorded alert of a path whose alert fires here too keeps its recorded
// start; of a path in Error (its hold-down still running here) or Unknown
// here it fires with its recorded start; of a path OK here it is resolved;
// of a path this agent has not heard of it fires as recorded until the path
// is reported, or is resolved after AllPathsReported (the path is no
// longer monitored).
//
// Writing the set never holds up Update or delivery: changes are marked
// under the lock and written by the term's own goroutine, in transactions
// of up to 500 operations that each first check the leader's election
// node, so that an agent that lost the lead cannot write. Connection errors
// are retried; a set found in another state than expected is read again.
//
// Each Alertmanager has its own bounded queue and sender goroutine, so a
// dead one never delays another. The sender posts batches; a failed batch
// is retried with exponential backoff (100ms up to the resend interval)
// unless Alertmanager rejected it as invalid (a 4xx answer other than 408
// and 429). A full queue drops its oldest alert and counts it. Firing alerts
// are resent every resend interval with endsAt = now + 4 × interval,
// computed when the request is made so a long retry never delivers a stale
// endsAt. When an Alertmanager answers again after a failure, or restarted
// (its uptime from GET /api/v2/status changed; polled while idle), its
// queue gets the whole current state at once.
//
// # Connections
//
// Each Alertmanager's HTTP client is built by prometheus/common from
// Options.HTTPConfig (TLS, basic auth, authorization, OAuth2, proxy), the
// format Prometheus uses for its own clients; LoadHTTPConfig reads and
// checks a file of it. Credentials in an Alertmanager URL become basic
// auth and may not be combined with authentication from HTTPConfig.
// SetHTTPConfig replaces the clients: each sender switches before its next
// request, so none is cut short and the old connections can all be closed.
// A refused password (401, 403) does not stop the status probe for the
// term, as other refusals do: it may be fixed while the term runs.
package alerting
