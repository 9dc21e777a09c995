package progress

import (
	"io"
	"os"
	"strconv"
)

// terminal returns out as a file if it is an interactive terminal that
// can redraw a line in place: a character device (on Linux, one with
// terminal attributes), with TERM not "dumb".
func terminal(out io.Writer) (*os.File, bool) {
	f, ok := out.(*os.File)
	if !ok || f == nil {
		return nil, false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || !isTTY(f) {
		return nil, false
	}
	if os.Getenv("TERM") == "dumb" {
		return nil, false
	}
	return f, true
}

// columns returns the width of the terminal f, from the kernel where it
// can tell, else from $COLUMNS, else 80.
func columns(f *os.File) int {
	if w := windowWidth(f); w > 0 {
		return w
	}
	if w, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && w > 0 {
		return w
	}
	return 80
}
