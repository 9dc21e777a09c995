//go:build !linux

package pgsource

import "net"

// setRcvLowat is a no-op where SO_RCVLOWAT is not available.
func setRcvLowat(net.Conn, int) bool { return false }
