package zkclient

import (
	"errors"

	"github.com/go-zookeeper/zk"
)

// IsConnectionError reports whether err means the request did not reach a
// live session (connection lost or closing, session expired or moved), so
// that it is worth sending again once the session is back, rather than an
// answer about the node.
func IsConnectionError(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) ||
		errors.Is(err, zk.ErrClosing) || errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrSessionMoved)
}
