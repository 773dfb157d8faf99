package collector

// PendingAges returns how many max_age deadlines the Watcher holds, for
// tests that check none is left behind a path that stopped being watched.
func (w *Watcher) PendingAges() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.ages.len()
}
