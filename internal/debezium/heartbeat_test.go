package debezium

import (
	"log/slog"
	"testing"
)

func TestHeartbeat(t *testing.T) {
	for _, schemas := range []bool{true, false} {
		o := DefaultOptions()
		o.TopicPrefix = "srv"
		o.KeySchemas, o.ValueSchemas = schemas, schemas
		e, err := NewEncoder(o, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := e.Heartbeat(nil, e.HeartbeatTopic("", ""), 1742741274875)
		if err != nil || len(recs) != 1 {
			t.Fatal(recs, err)
		}
		r := recs[0]
		wantKey, wantVal := `{"serverName":"srv"}`, `{"ts_ms":1742741274875}`
		if schemas {
			wantKey = `{"schema":` + heartbeatKeySchema + `,"payload":` + wantKey + `}`
			wantVal = `{"schema":` + heartbeatValueSchema + `,"payload":` + wantVal + `}`
		}
		if r.Topic != "__debezium-heartbeat.srv" || r.Partition != 0 || string(r.Key) != wantKey || string(r.Value) != wantVal {
			t.Errorf("schemas=%v: %s p%d key %s value %s", schemas, r.Topic, r.Partition, r.Key, r.Value)
		}
		if got := e.HeartbeatTopic("hb", ""); got != "hb.srv" {
			t.Errorf("topic.heartbeat.prefix: %s", got)
		}
		if got := e.HeartbeatTopic("hb", "custom-topic"); got != "custom-topic" {
			t.Errorf("topic.heartbeat.name must win: %s", got)
		}
	}
}
