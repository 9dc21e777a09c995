package connect

import "testing"

// TestMemAccountSteps checks that the reservation follows what is held,
// in steps, rounded up, and is given back with a step of slack.
func TestMemAccountSteps(t *testing.T) {
	var reserved int64
	reserve := func(n int64) func() {
		reserved += n
		done := false
		return func() {
			if done {
				t.Fatal("a step was given back twice")
			}
			done = true
			reserved -= n
		}
	}
	a := newMemAccount(reserve)
	steps := []struct {
		add  int64
		want int64 // reserved afterwards, in steps
	}{
		{0, 0},
		{1, 1},             // a byte held: one step
		{memStep - 1, 1},   // exactly one step
		{1, 2},             // one byte over
		{5 * memStep, 7},   // 6 steps and a byte
		{-5 * memStep, 3},  // a step and a byte: 2 steps, and one of slack
		{-memStep - 1, 1},  // nothing held: the step of slack stays
		{64 * memStep, 64}, // a full 512 MiB buffer
		{-64 * memStep, 1}, // drained
	}
	for i, s := range steps {
		a.add(s.add)
		if got := reserved / memStep; got != s.want {
			t.Fatalf("step %d (add %d, held %d): %d steps reserved, want %d", i, s.add, a.held.Load(), got, s.want)
		}
	}
	a.close()
	if reserved != 0 {
		t.Fatalf("after close %d bytes still reserved", reserved)
	}
}
