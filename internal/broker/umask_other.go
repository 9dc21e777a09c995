//go:build !unix

package broker

// restrictUmask does nothing where there is no umask.
func restrictUmask() {}
