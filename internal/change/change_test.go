package change

import "testing"

func TestLSNRoundTrip(t *testing.T) {
	tests := []struct {
		in   string
		want LSN
	}{
		{"0/0", 0},
		{"0/16B3748", 0x16B3748},
		{"16/B374D848", 0x16B374D848},
		{"FFFFFFFF/FFFFFFFF", ^LSN(0)},
	}
	for _, tt := range tests {
		got, err := ParseLSN(tt.in)
		if err != nil {
			t.Fatalf("ParseLSN(%q): %v", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("ParseLSN(%q) = %d, want %d", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("%d.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

func TestParseLSNErrors(t *testing.T) {
	for _, in := range []string{"", "0", "/1", "1/", "x/1", "1/1/1", "123456789/0"} {
		if _, err := ParseLSN(in); err == nil {
			t.Errorf("ParseLSN(%q): want an error", in)
		}
	}
}

func FuzzParseLSN(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "g/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLSN(s)
		if err != nil {
			return
		}
		back, err := ParseLSN(l.String())
		if err != nil || back != l {
			t.Fatalf("round trip of %q: %v %v", s, back, err)
		}
	})
}
