package progress

import (
	"os"
	"syscall"
	"unsafe"
)

// ioctl runs an ioctl request on f through SyscallConn rather than Fd,
// which would switch the descriptor to blocking mode.
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil || errno != 0 {
		return false
	}
	return true
}

// isTTY tells a terminal from other character devices such as /dev/null:
// only a terminal has terminal attributes (TCGETS).
func isTTY(f *os.File) bool {
	var t syscall.Termios
	return ioctl(f, syscall.TCGETS, unsafe.Pointer(&t))
}

// windowWidth asks the kernel for the width of terminal f (TIOCGWINSZ);
// 0 when it cannot tell.
func windowWidth(f *os.File) int {
	var ws struct{ row, col, xpixel, ypixel uint16 }
	if !ioctl(f, syscall.TIOCGWINSZ, unsafe.Pointer(&ws)) {
		return 0
	}
	return int(ws.col)
}
