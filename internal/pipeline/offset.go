package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/snapshot"
)

// Offset is a PostgreSQL connector's source offset, with Debezium's keys
// (reference §8). Zero values are left out when it is written.
type Offset struct {
	LSN         change.LSN `json:"lsn,omitempty"`
	LSNProc     change.LSN `json:"lsn_proc,omitempty"`
	LSNCommit   change.LSN `json:"lsn_commit,omitempty"`
	TxID        int64      `json:"txId,omitempty"`
	TsUsec      int64      `json:"ts_usec,omitempty"`
	MessageType string     `json:"messageType,omitempty"`
	// LSNEvents is pgmotion's own key in an offset sealed inside a
	// transaction: how many of its changes at LSN were handled, since
	// changes can share an LSN (resume.go). Debezium ignores it.
	LSNEvents int `json:"pgmotion_lsn_events,omitempty"`
	// Snapshot is "INITIAL" while the initial snapshot runs. Debezium 3.0
	// and earlier wrote true; both are read.
	Snapshot           snapshotFlag `json:"snapshot,omitempty"`
	LastSnapshotRecord bool         `json:"last_snapshot_record,omitempty"`
	SnapshotCompleted  bool         `json:"snapshot_completed,omitempty"`
	// SnapshotProgress is pgmotion's own key while the initial snapshot
	// runs: a JSON document of the table ranges Kafka holds, so that a
	// restarted worker reads only the others. Debezium ignores it.
	SnapshotProgress string `json:"pgmotion_snapshot_progress,omitempty"`
	// The incremental snapshot's progress (incremental.go): Debezium's
	// incremental_snapshot_collections (a JSON list, as a string) and
	// incremental_snapshot_correlation_id, and pgmotion's own keys for the
	// key reached and the table's largest key, each a JSON array of the key
	// values as text. Debezium keeps those two as hex of a Java-serialized
	// Object[] under incremental_snapshot_primary_key and
	// incremental_snapshot_maximum_key, which pgmotion does not decode:
	// DebeziumPrimaryKey is read only to notice them, and never written.
	IncrementalCollections   string `json:"incremental_snapshot_collections,omitempty"`
	IncrementalCorrelationID string `json:"incremental_snapshot_correlation_id,omitempty"`
	IncrementalPrimaryKey    string `json:"pgmotion_incremental_snapshot_primary_key,omitempty"`
	IncrementalMaximumKey    string `json:"pgmotion_incremental_snapshot_maximum_key,omitempty"`
	DebeziumPrimaryKey       string `json:"incremental_snapshot_primary_key,omitempty"`
	// TransactionID is Debezium's transaction_id, the xid of the open
	// transaction, in offsets sealed inside one with
	// provide.transaction.metadata on (txmeta.go). TransactionOrders holds
	// its transaction_data_collection_order_<schema.table> keys as ready
	// JSON object members, so that an Offset stays comparable.
	TransactionID     string `json:"transaction_id,omitempty"`
	TransactionOrders string `json:"-"`
}

// snapshotFlag reads Debezium's "snapshot" offset key in both its forms.
type snapshotFlag string

func (f *snapshotFlag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*f = "INITIAL"
	case "false", "null":
		*f = ""
	default:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("offset key snapshot: want a string or a boolean, got %s", b)
		}
		*f = snapshotFlag(s)
	}
	return nil
}

// SnapshotDone reports whether this offset is past the initial snapshot.
func (o *Offset) SnapshotDone() bool {
	return o.Snapshot == "" || o.SnapshotCompleted || o.LastSnapshotRecord
}

// ResumeLSN is where streaming starts again: the last commit whose
// events Kafka holds, which is also what is confirmed to the slot.
func (o *Offset) ResumeLSN() change.LSN {
	if o.LSNCommit != 0 {
		return o.LSNCommit
	}
	return o.LSNProc
}

// ConfirmLSN is the position this offset allows confirming to the slot.
// Offsets taken during the snapshot confirm nothing.
func (o *Offset) ConfirmLSN() change.LSN {
	if o.Snapshot != "" && !o.SnapshotCompleted {
		return 0
	}
	return o.ResumeLSN()
}

// MarshalJSON writes the offset with LSNs as JSON numbers, as Debezium
// does, leaving out unset keys.
func (o Offset) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	field := func(k, v string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		b.WriteString(v)
	}
	if o.LSNProc != 0 {
		field("lsn_proc", strconv.FormatUint(uint64(o.LSNProc), 10))
	}
	if o.MessageType != "" {
		field("messageType", strconv.Quote(o.MessageType))
	}
	if o.LSNCommit != 0 {
		field("lsn_commit", strconv.FormatUint(uint64(o.LSNCommit), 10))
	}
	if o.LSN != 0 {
		field("lsn", strconv.FormatUint(uint64(o.LSN), 10))
	}
	if o.TxID != 0 {
		field("txId", strconv.FormatInt(o.TxID, 10))
	}
	if o.LSNEvents != 0 {
		field("pgmotion_lsn_events", strconv.Itoa(o.LSNEvents))
	}
	if o.TsUsec != 0 {
		field("ts_usec", strconv.FormatInt(o.TsUsec, 10))
	}
	if o.Snapshot != "" {
		field("snapshot", strconv.Quote(string(o.Snapshot)))
		field("last_snapshot_record", strconv.FormatBool(o.LastSnapshotRecord))
	}
	if o.SnapshotCompleted {
		field("snapshot_completed", "true")
	}
	if o.SnapshotProgress != "" {
		q, _ := json.Marshal(o.SnapshotProgress)
		field("pgmotion_snapshot_progress", string(q))
	}
	for _, kv := range [...]struct{ k, v string }{
		{"incremental_snapshot_collections", o.IncrementalCollections},
		{"incremental_snapshot_correlation_id", o.IncrementalCorrelationID},
		{"pgmotion_incremental_snapshot_primary_key", o.IncrementalPrimaryKey},
		{"pgmotion_incremental_snapshot_maximum_key", o.IncrementalMaximumKey},
	} {
		if kv.v != "" {
			field(kv.k, string(jsonString(kv.v)))
		}
	}
	if o.TransactionID != "" {
		field("transaction_id", strconv.Quote(o.TransactionID))
	}
	if o.TransactionOrders != "" {
		if !first {
			b.WriteByte(',')
		}
		b.WriteString(o.TransactionOrders)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// OffsetKey is the record key Kafka Connect uses for a connector's source
// partition: ["<name>",{"server":"<topic.prefix>"}].
func OffsetKey(connector, server string) []byte {
	k, _ := json.Marshal([]any{connector, map[string]string{"server": server}})
	return k
}

// ParseOffset reads a stored offset: Debezium's keys and pgmotion's own.
func ParseOffset(v []byte) (*Offset, error) {
	var o Offset
	if err := json.Unmarshal(v, &o); err != nil {
		return nil, err
	}
	if err := o.loadTxOrders(v); err != nil { // txmeta.go
		return nil, err
	}
	return &o, nil
}

// stored is what the offset, nil when none is stored, says of the
// initial snapshot.
func (o *Offset) stored() snapshot.Stored {
	switch {
	case o == nil:
		return snapshot.NoOffset
	case !o.SnapshotDone():
		return snapshot.Unfinished
	}
	return snapshot.Finished
}
