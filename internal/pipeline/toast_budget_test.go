package pipeline

import (
	"testing"

	"github.com/pgmotion/pgmotion/internal/pgsource"
)

func TestTaskMemoryBudget(t *testing.T) {
	for _, tc := range []struct {
		fill   string
		buffer int64
		cache  int64
		want   int64
	}{
		{ToastFillNone, 64 << 20, 64 << 20, 64 << 20},
		{"", 64 << 20, 64 << 20, 64 << 20},
		{ToastFillCache, 64 << 20, 512 << 20, 576 << 20},
		{ToastFillRefetch, 0, 32 << 20, 32 << 20},
		{ToastFillCache, -1, -1, 0},
	} {
		c := Config{ToastFill: tc.fill, ToastCacheBytes: tc.cache, Source: pgsource.Config{BufferMemory: tc.buffer}}
		if got := c.memoryBudget(); got != tc.want {
			t.Errorf("fill=%q buffer=%d cache=%d: budget %d, want %d", tc.fill, tc.buffer, tc.cache, got, tc.want)
		}
	}
}
