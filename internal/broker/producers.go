package broker

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// After a crash kfake forgets two things about producers that the log
// still tells:
//
//   - The idempotent producer's sequence windows (the last five batches of
//     each producer in each partition), which it saves only on a clean
//     shutdown. A producer that retries a batch written just before the
//     crash then has it written twice, and after later ones.
//   - The end of the transactions open at the crash. kfake treats them as
//     aborted but writes no abort marker, while a read_committed consumer
//     (franz-go, librdkafka, the Java client) skips a producer's batches
//     from the start of an aborted transaction until it meets that
//     producer's abort marker: every later transaction of the same
//     producer disappears from its view.
//
// recoverProducers reads the segments of the partitions a crash left
// without a matching snapshot, writes the sequence windows found there to
// kfake's seq_windows.json before kfake loads the directory, and returns
// the transactions that need an abort marker, which the broker writes once
// kfake runs (writeAbortMarkers). It writes kfake's private format, so it
// acts only on the version we know (1, as of
// v0-20260918054303-01f206a7e32c).

// openTxn is a transaction a crash left open in one partition.
type openTxn struct {
	Topic     string
	Partition int32
	Producer  int64
	Epoch     int16
}

// seqEntry is one batch of a producer's window.
type seqEntry struct {
	FirstSeq int32 `json:"first_seq"`
	NextSeq  int32 `json:"next_seq"`
	Offset   int64 `json:"offset"`
}

// seqWindow is kfake's persisted window (persistSeqWindowEntry, v2 form).
type seqWindow struct {
	PID     int64       `json:"pid"`
	Topic   string      `json:"topic"`
	Part    int32       `json:"partition"`
	Entries [5]seqEntry `json:"entries"`
	Count   uint8       `json:"count"`
	At      uint8       `json:"at"`
	Epoch   int16       `json:"epoch"`
	Seen    bool        `json:"seen"`
	NextSeq int32       `json:"next_seq"`
}

func recoverProducers(dir string, log *slog.Logger) ([]openTxn, error) {
	var meta struct {
		Version int `json:"version"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, kfakeMetaFile)); err != nil {
		return nil, nil
	} else if json.Unmarshal(b, &meta) != nil || meta.Version != 1 {
		return nil, nil
	}
	windowsPath := filepath.Join(dir, "seq_windows.json")
	var saved struct {
		Version int               `json:"version"`
		Windows []json.RawMessage `json:"windows"`
	}
	if b, err := os.ReadFile(windowsPath); err == nil {
		if json.Unmarshal(b, &saved) != nil || saved.Version > 1 {
			return nil, nil // kfake reports a damaged file itself
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recover producers: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "partitions"))
	if err != nil {
		return nil, nil
	}
	var (
		rebuilt = map[string]bool{} // "topic\x00partition" scanned
		windows []seqWindow
		open    []openTxn
	)
	for _, e := range entries {
		i := strings.LastIndexByte(e.Name(), '-')
		if !e.IsDir() || i <= 0 {
			continue
		}
		p, err := strconv.Atoi(e.Name()[i+1:])
		topic, uerr := url.PathUnescape(e.Name()[:i])
		if err != nil || uerr != nil || p < 0 {
			continue
		}
		pdir := filepath.Join(dir, "partitions", e.Name())
		if !crashed(pdir) {
			continue
		}
		w, o, err := scanPartition(pdir, topic, int32(p))
		if err != nil {
			log.Warn("could not read a partition's segments to recover its producers; a retried batch may be written twice", "topic", topic, "partition", p, "err", err)
			continue
		}
		rebuilt[topic+"\x00"+strconv.Itoa(p)] = true
		windows = append(windows, w...)
		open = append(open, o...)
	}
	if len(rebuilt) == 0 {
		return nil, nil
	}
	// Keep the saved windows of the partitions not scanned.
	out := make([]any, 0, len(saved.Windows)+len(windows))
	for _, raw := range saved.Windows {
		var k struct {
			Topic string `json:"topic"`
			Part  int32  `json:"partition"`
		}
		if json.Unmarshal(raw, &k) == nil && rebuilt[k.Topic+"\x00"+strconv.Itoa(int(k.Part))] {
			continue
		}
		out = append(out, raw)
	}
	for _, w := range windows {
		out = append(out, w)
	}
	b, err := json.Marshal(map[string]any{"version": 1, "windows": out})
	if err != nil {
		return nil, fmt.Errorf("recover producers: %w", err)
	}
	if err := writeFileSync(windowsPath, b); err != nil {
		return nil, fmt.Errorf("recover producers: %w", err)
	}
	log.Info("recovered producer state from the log after a crash", "partitions", len(rebuilt), "producer_windows", len(windows), "open_transactions", len(open))
	return open, nil
}

// crashed reports whether a partition's snapshot, written on a clean
// shutdown, is missing or older than its newest segment.
func crashed(pdir string) bool {
	snap, err := os.Stat(filepath.Join(pdir, "snapshot.json"))
	if err != nil {
		return hasSegments(pdir)
	}
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".dat") {
			if info, err := e.Info(); err == nil && info.ModTime().After(snap.ModTime()) {
				return true
			}
		}
	}
	return false
}

// scanPartition reads a partition's segments (raw record batches, in
// offset order) and returns each producer's window and the transactions
// without an end.
func scanPartition(pdir, topic string, part int32) ([]seqWindow, []openTxn, error) {
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return nil, nil, err
	}
	var bases []int64
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".dat"); ok {
			if base, err := strconv.ParseInt(name, 10, 64); err == nil {
				bases = append(bases, base)
			}
		}
	}
	slices.Sort(bases)
	wins := map[int64]*seqWindow{}
	var order []int64
	inTxn := map[int64]int16{} // producer → epoch of its open transaction
	for _, base := range bases {
		raw, err := os.ReadFile(filepath.Join(pdir, strconv.FormatInt(base, 10)+".dat"))
		if err != nil {
			return nil, nil, err
		}
		for len(raw) >= 61 {
			n := 12 + int(int32(binary.BigEndian.Uint32(raw[8:12])))
			if n < 61 || n > len(raw) {
				break // a torn write at the end, which kfake drops too
			}
			var b kmsg.RecordBatch
			if err := b.ReadFrom(raw[:n]); err != nil {
				break
			}
			raw = raw[n:]
			if b.ProducerID < 0 {
				continue
			}
			control := b.Attributes&0x20 != 0
			if control {
				delete(inTxn, b.ProducerID)
				continue
			}
			if b.Attributes&0x10 != 0 {
				inTxn[b.ProducerID] = b.ProducerEpoch
			}
			if b.FirstSequence < 0 {
				continue
			}
			w := wins[b.ProducerID]
			if w == nil {
				w = &seqWindow{PID: b.ProducerID, Topic: topic, Part: part}
				wins[b.ProducerID] = w
				order = append(order, b.ProducerID)
			}
			next := int32((int64(b.FirstSequence) + int64(b.NumRecords)) % (1<<31 - 1))
			if w.Seen && w.Epoch != b.ProducerEpoch {
				*w = seqWindow{PID: w.PID, Topic: topic, Part: part} // a new epoch starts its sequences again
			}
			w.Seen, w.Epoch, w.NextSeq = true, b.ProducerEpoch, next
			w.Entries[w.At] = seqEntry{FirstSeq: b.FirstSequence, NextSeq: next, Offset: b.FirstOffset}
			w.At = (w.At + 1) % 5
			w.Count = min(w.Count+1, 5)
		}
	}
	out := make([]seqWindow, 0, len(order))
	for _, pid := range order {
		out = append(out, *wins[pid])
	}
	var open []openTxn
	for pid, epoch := range inTxn {
		open = append(open, openTxn{Topic: topic, Partition: part, Producer: pid, Epoch: epoch})
	}
	return out, open, nil
}

// writeAbortMarkers ends the transactions a crash left open with an abort
// marker each, through the broker's own listener at addr (WriteTxnMarkers,
// which kfake serves for admin tools), before clients write after them.
func (b *Broker) writeAbortMarkers(addr string, open []openTxn) error {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, b.ClientOpts()...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	for _, o := range open {
		m := kmsg.NewWriteTxnMarkersRequestMarker()
		m.ProducerID, m.ProducerEpoch, m.Committed = o.Producer, o.Epoch, false
		t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		t.Topic, t.Partitions = o.Topic, []int32{o.Partition}
		m.Topics = append(m.Topics, t)
		req.Markers = append(req.Markers, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seeds := cl.SeedBrokers()
	if len(seeds) == 0 {
		return errors.New("no seed broker")
	}
	resp, err := seeds[0].Request(ctx, req)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range resp.(*kmsg.WriteTxnMarkersResponse).Markers {
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d producer %d: %w", t.Topic, p.Partition, m.ProducerID, err))
				}
			}
		}
	}
	if len(errs) == 0 {
		b.log.Info("aborted the transactions a crash left open", "transactions", len(open))
	}
	return errors.Join(errs...)
}
