package connect

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestScrubLogger(t *testing.T) {
	scrub := strings.NewReplacer("s3cr3t", "${env:PW}").Replace
	var buf bytes.Buffer
	log := newScrubLogger(slog.New(slog.NewTextHandler(&buf, nil)), scrub).With("k", "with s3cr3t")
	inner := errors.New("auth failed for s3cr3t")
	log.WithGroup("g").Error("msg s3cr3t", "err", fmt.Errorf("wrap: %w", inner), "s", "s3cr3t", slog.Group("sub", "x", "s3cr3t"))
	out := buf.String()
	if strings.Contains(out, "s3cr3t") || strings.Count(out, "${env:PW}") != 5 {
		t.Errorf("log line: %s", out)
	}
	err := scrubErr(fmt.Errorf("wrap: %w", inner), scrub)
	if err.Error() != "wrap: auth failed for ${env:PW}" || !errors.Is(err, inner) {
		t.Errorf("scrubErr = %v (is inner: %v)", err, errors.Is(err, inner))
	}
}
