package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// OffsetKeys are the incremental snapshot's keys of a source offset
// (connect's Offset holds them under the same names, with Incremental in
// front): Debezium's incremental_snapshot_collections and
// incremental_snapshot_correlation_id, and pgmotion's
// pgmotion_incremental_snapshot_primary_key and
// pgmotion_incremental_snapshot_maximum_key, each a JSON array of the key
// values in PostgreSQL's text form. DebeziumPrimaryKey is Debezium's
// incremental_snapshot_primary_key (hex of a Java-serialized Object[]),
// read only to notice it, never written.
type OffsetKeys struct {
	Collections        string
	CorrelationID      string
	PrimaryKey         string
	MaximumKey         string
	DebeziumPrimaryKey string
}

// incCollection is a table queued for an incremental snapshot, as
// Debezium's DataCollection. Condition is kept in parentheses, as
// Debezium writes it to the offsets.
type incCollection struct {
	ID            string
	Condition     string
	SurrogateKey  string
	CorrelationID string
}

// The keys of incremental_snapshot_collections' entries.
const (
	keyCollID        = "incremental_snapshot_collections_id"
	keyCollCondition = "incremental_snapshot_collections_additional_condition"
	keyCollSurrogate = "incremental_snapshot_collections_surrogate_key"
	keyCollCorrID    = "incremental_snapshot_collections_correlation_id"
)

// incState is the part of an incremental snapshot that the offsets keep.
type incState struct {
	// colls are the tables left, the one being read first.
	colls []incCollection
	// lastKey is the key of the last chunk emitted from colls[0]; nil
	// means the table starts from its first row.
	lastKey []string
	// maxKey is colls[0]'s largest key when its snapshot began; nil until
	// it is read.
	maxKey []string
	// correlationID is the id of the signal that last added tables.
	correlationID string
}

func (s *incState) running() bool { return len(s.colls) > 0 }

// offsetFields returns the offset's incremental snapshot keys; all empty
// when no snapshot runs.
func (s *incState) offsetFields() (colls, corr, pk, max string) {
	if !s.running() {
		return "", "", "", ""
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, c := range s.colls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, kv := range [...]struct{ k, v string }{
			{keyCollID, c.ID}, {keyCollCondition, c.Condition}, {keyCollSurrogate, c.SurrogateKey}, {keyCollCorrID, c.CorrelationID},
		} {
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(jsonString(kv.k))
			b.WriteByte(':')
			if kv.v == "" && kv.k != keyCollID {
				b.WriteString("null")
			} else {
				b.Write(jsonString(kv.v))
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	colls = b.String()
	if s.lastKey != nil {
		k, _ := json.Marshal(s.lastKey)
		pk = string(k)
	}
	if s.maxKey != nil {
		k, _ := json.Marshal(s.maxKey)
		max = string(k)
	}
	return colls, s.correlationID, pk, max
}

// jsonString encodes s as a JSON string, without Go's HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// loadIncState reads the incremental snapshot keys of a stored offset.
// The warning, if any, says that the table being read starts again.
func loadIncState(off *OffsetKeys) (incState, string, error) {
	var s incState
	if off == nil || off.Collections == "" {
		return s, "", nil
	}
	var entries []map[string]*string
	if err := json.Unmarshal([]byte(off.Collections), &entries); err != nil {
		return s, "", fmt.Errorf("offset key incremental_snapshot_collections is not a JSON list of collections: %w", err)
	}
	str := func(m map[string]*string, k string) string {
		if v := m[k]; v != nil {
			return *v
		}
		return ""
	}
	for _, e := range entries {
		id := str(e, keyCollID)
		if id == "" {
			return s, "", errors.New("offset key incremental_snapshot_collections holds an entry without incremental_snapshot_collections_id")
		}
		s.colls = append(s.colls, incCollection{ID: id, Condition: str(e, keyCollCondition), SurrogateKey: str(e, keyCollSurrogate), CorrelationID: str(e, keyCollCorrID)})
	}
	s.correlationID = off.CorrelationID
	if len(s.colls) == 0 {
		return s, "", nil
	}
	var warn string
	if off.PrimaryKey != "" {
		if err := json.Unmarshal([]byte(off.PrimaryKey), &s.lastKey); err != nil {
			return s, "", fmt.Errorf("offset key pgmotion_incremental_snapshot_primary_key is not a JSON list of strings: %w", err)
		}
	}
	if off.MaximumKey != "" {
		if err := json.Unmarshal([]byte(off.MaximumKey), &s.maxKey); err != nil {
			return s, "", fmt.Errorf("offset key pgmotion_incremental_snapshot_maximum_key is not a JSON list of strings: %w", err)
		}
	}
	if off.PrimaryKey == "" && off.DebeziumPrimaryKey != "" {
		warn = "the stored offset holds Debezium's incremental snapshot position (a Java-serialized key, which pgmotion does not read): the snapshot of " + s.colls[0].ID + " starts again from its first row"
		s.maxKey = nil
	}
	return s, warn, nil
}
