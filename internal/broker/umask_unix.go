//go:build unix

package broker

import "syscall"

// restrictUmask takes group and other permissions out of the process umask,
// so that the files kfake creates 0644 are 0600. The umask is the process's:
// whatever else this process creates afterwards is private too.
func restrictUmask() {
	old := syscall.Umask(0o077)
	syscall.Umask(old | 0o077)
}
