package pipeline

import (
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/pgsource"
)

// TestDDLCaptureOption checks pgmotion.ddl.capture as the connector config
// gives it: on, the source installs the triggers and the trigger's
// messages are DDL events on <topic.prefix>.ddl, whatever the message
// prefix lists say; off (the default), nothing is installed and they are
// plain messages, which the prefix lists may drop.
func TestDDLCaptureOption(t *testing.T) {
	ddl := &change.Change{Op: change.OpMessage, LSN: 200, Xid: 8, HasXid: true, TsMicros: 1,
		Message: change.Message{Prefix: pgsource.DDLMessagePrefix, Transactional: true, Content: []byte(
			`{"event":"ddl_command_end","tag":"CREATE TABLE","user":"u","query":"CREATE TABLE t ()",` +
				`"objects":[{"commandTag":"CREATE TABLE","objectType":"table","schemaName":"public","objectIdentity":"public.t"}]}`)}}
	for _, tc := range []struct {
		name    string
		extra   []string
		capture bool
		topic   string // "" for no record
	}{
		{"default", nil, false, "srv.message"},
		{"off", []string{"pgmotion.ddl.capture", "false"}, false, "srv.message"},
		{"off, excluded", []string{"pgmotion.ddl.capture", "false", "message.prefix.exclude.list", `pgmotion\.ddl`}, false, ""},
		{"on", []string{"pgmotion.ddl.capture", "true"}, true, "srv.ddl"},
		{"on, prefix lists", []string{"pgmotion.ddl.capture", "true", "message.prefix.include.list", "audit"}, true, "srv.ddl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc2, _, err := ConfigFrom("c", outboxConfig(append([]string{"pgmotion.outbox.source", "table", "transforms", ""}, tc.extra...)...))
			if err != nil {
				t.Fatal(err)
			}
			if tc2.Source.DDLCapture != tc.capture {
				t.Errorf("Source.DDLCapture = %v, want %v", tc2.Source.DDLCapture, tc.capture)
			}
			enc, err := debezium.NewEncoder(tc2.Encoder, nil)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := enc.Encode(nil, ddl)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.topic == "" && len(recs) != 0:
				t.Errorf("%d records on %s, want none", len(recs), recs[0].Topic)
			case tc.topic != "" && (len(recs) != 1 || recs[0].Topic != tc.topic):
				t.Errorf("%d records (%v), want one on %s", len(recs), recs, tc.topic)
			}
		})
	}
}
