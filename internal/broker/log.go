package broker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kfake"
)

// kfake logs every request it handles at its info level, so its info and
// debug lines go below slog's debug level: --log-level debug stays readable,
// and DEBUG-2 or DEBUG-4 show kfake's request traffic.
const (
	levelKfakeInfo  = slog.LevelDebug - 2
	levelKfakeDebug = slog.LevelDebug - 4
)

// kfakeLogger adapts slog to kfake's Logger.
type kfakeLogger struct{ l *slog.Logger }

func (k kfakeLogger) Logf(lv kfake.LogLevel, format string, args ...any) {
	level := slogLevel(lv)
	ctx := context.Background()
	if !k.l.Enabled(ctx, level) {
		return
	}
	k.l.Log(ctx, level, fmt.Sprintf(format, args...), "logger", "kfake")
}

func slogLevel(lv kfake.LogLevel) slog.Level {
	switch lv {
	case kfake.LogLevelError:
		return slog.LevelError
	case kfake.LogLevelWarn:
		return slog.LevelWarn
	case kfake.LogLevelInfo:
		return levelKfakeInfo
	default:
		return levelKfakeDebug
	}
}
