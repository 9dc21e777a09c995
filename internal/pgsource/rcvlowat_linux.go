package pgsource

import (
	"net"
	"syscall"
)

// setRcvLowat sets the socket's receive low-water mark.
func setRcvLowat(conn net.Conn, n int) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
	}); err != nil || serr != nil {
		return false
	}
	return true
}
