package pgsource

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgmotion/pgmotion/internal/change"
)

// Handler receives the stream in commit order, one transaction at a time.
// Its methods run on the streaming goroutine; a Change and its tuples are
// valid only during the call. Logical decoding messages come through
// Change with Op change.OpMessage: a transactional one between Begin and
// Commit, a non-transactional one on its own, outside any transaction
// (HasXid false).
type Handler interface {
	// Begin opens transaction xid. beginLSN is the WAL position the server
	// sent the BEGIN message at (pgoutput: the transaction's first LSN, or,
	// from PostgreSQL 15 on, that of its first published change), which
	// Debezium puts in the BEGIN transaction metadata event's id; finalLSN
	// is the LSN of its commit record.
	Begin(xid uint32, beginLSN, finalLSN change.LSN, tsMicros int64) error
	Change(c *change.Change) error
	Commit(commitLSN, endLSN change.LSN, tsMicros int64) error
	// Idle says the server has sent everything up to walEnd and no
	// transaction is open: once every earlier event is in Kafka, walEnd
	// may be confirmed, so that an idle or filtered slot does not pin WAL.
	Idle(walEnd change.LSN) error
	// Tick runs every few milliseconds while the stream is quiet and every
	// tickEvery messages while it is busy, for work that runs on a clock
	// (heartbeats). inTxn tells whether a transaction is open.
	Tick(now time.Time, inTxn bool) error
}

// tickEvery is how many messages may pass between two Ticks.
const tickEvery = 1024

// StreamOptions says where the stream starts.
type StreamOptions struct {
	// Start is the position to ask for; 0 lets the slot decide.
	Start change.LSN
	// LastCommit is the end of the last transaction already delivered,
	// the first element of source.sequence until the next commit.
	LastCommit change.LSN
}

// Stream runs the replication stream until ctx is done or an error occurs.
// It returns ctx's error when ctx ends it.
func (s *Source) Stream(ctx context.Context, opt StreamOptions, h Handler) error {
	args := []string{"proto_version '1'", "publication_names '" + s.cfg.Publication + "'"}
	if s.serverVersion >= pg14 {
		// Logical decoding messages (pg_logical_emit_message) become
		// op "m" events; pgoutput sends them from PostgreSQL 14 on.
		args = append(args, "messages 'true'")
	}
	// Streamed transactions (txbuffer.go): from PostgreSQL 14 on, the
	// server sends large transactions while they run instead of spilling
	// them to its own disk, and pgmotion buffers them until their commit.
	txb, err := s.newTxBuffers()
	if err != nil {
		return err
	}
	defer txb.closeAll()
	if s.serverVersion >= pg14 {
		args[0] = "proto_version '2'"
		args = append(args, "streaming 'on'")
	}
	if err := pglogrepl.StartReplication(ctx, s.repl, s.cfg.Slot, pglogrepl.LSN(opt.Start),
		pglogrepl.StartReplicationOptions{Mode: pglogrepl.LogicalReplication, PluginArgs: args}); err != nil {
		return fmt.Errorf("start replication from slot %q at %s: %w", s.cfg.Slot, opt.Start, explain(err, s.cfg.Conn.User, s.dbName))
	}
	s.confirmed.advance(opt.Start)
	s.log.Info("streaming", "slot", s.cfg.Slot, "publication", s.cfg.Publication, "lsn", opt.Start.String())

	st := &statusSender{src: s, replyNow: make(chan struct{}, 1)}
	stctx, stopStatus := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		st.run(stctx)
	}()
	defer func() {
		stopStatus()
		wg.Wait()
	}()

	// Reading with a background context avoids pgconn's per-call context
	// watcher, which cost about 30% of client CPU; cancellation instead
	// expires the socket's read deadline.
	stopRead := context.AfterFunc(ctx, func() { s.repl.Conn().SetReadDeadline(time.Now()) })
	defer stopRead()
	batching := setRcvLowat(s.repl.Conn(), readBatch)
	if batching {
		s.repl.Conn().SetReadDeadline(time.Now().Add(readFlush))
		defer setRcvLowat(s.repl.Conn(), 1)
	}

	sr := streamReader{src: s, h: h, lastCommit: opt.LastCommit, status: st, txb: txb}
	for {
		msg, err := s.repl.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if isTimeout(err) {
				now := time.Now()
				if batching {
					s.repl.Conn().SetReadDeadline(now.Add(readFlush))
				}
				if err := h.Tick(now, sr.inTxn); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("replication stream from slot %q: %w", s.cfg.Slot, err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if err := sr.copyData(ctx, m.Data); err != nil {
				return err
			}
			if sr.msgs++; sr.msgs%tickEvery == 0 {
				if err := h.Tick(time.Now(), sr.inTxn); err != nil {
					return err
				}
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("replication stream from slot %q: %w", s.cfg.Slot, explain(pgconn.ErrorResponseToPgError(m), s.cfg.Conn.User, s.dbName))
		case *pgproto3.CopyDone:
			return fmt.Errorf("replication stream from slot %q: the server ended the stream", s.cfg.Slot)
		}
	}
}

type streamReader struct {
	msgs       int
	src        *Source
	h          Handler
	dec        PgoutputDecoder
	msg        PgoutputMessage
	ch         change.Change
	inTxn      bool
	xid        uint32
	ts         int64
	lastCommit change.LSN
	status     *statusSender
	// txb holds the streamed transactions still open (txbuffer.go);
	// streaming is set between STREAM START and STREAM STOP, for
	// streamXid.
	txb       *txBuffers
	streaming bool
	streamXid uint32
}

func (r *streamReader) copyData(ctx context.Context, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		if len(b) < 18 {
			return fmt.Errorf("keepalive message of %d bytes, want 18", len(b))
		}
		walEnd := change.LSN(binary.BigEndian.Uint64(b[1:]))
		if b[17] == 1 {
			r.status.requestReply()
		}
		// While a streamed transaction is buffered, walEnd may lie past
		// its start: confirming it would tell the slot that Kafka holds
		// what is only in the buffer.
		if !r.inTxn && r.txb.open() == 0 {
			if err := r.h.Idle(walEnd); err != nil {
				return err
			}
		}
		return r.h.Tick(time.Now(), r.inTxn)
	case pglogrepl.XLogDataByteID:
		if len(b) < 25 {
			return fmt.Errorf("XLogData message of %d bytes, want at least 25", len(b))
		}
		walStart := change.LSN(binary.BigEndian.Uint64(b[1:]))
		return r.logical(ctx, walStart, b[25:])
	}
	return nil
}

func (r *streamReader) logical(ctx context.Context, lsn change.LSN, b []byte) error {
	m := &r.msg
	if err := r.dec.Decode(b, m); err != nil {
		return fmt.Errorf("at LSN %s: %w", lsn, err)
	}
	if handled, err := r.streamed(ctx, lsn, m); handled {
		return err
	}
	s := r.src
	switch m.Type {
	case MsgBegin:
		r.inTxn, r.xid, r.ts = true, m.Xid, m.TsMicros
		return r.h.Begin(m.Xid, lsn, m.FinalLSN, m.TsMicros)
	case MsgCommit:
		r.inTxn = false
		if err := r.h.Commit(m.CommitLSN, m.EndLSN, m.TsMicros); err != nil {
			return err
		}
		r.lastCommit = m.EndLSN
		return nil
	case MsgRelation:
		if !s.included(m.Relation.Namespace, m.Relation.Name) {
			s.excluded[m.Relation.ID] = m.Relation.Namespace + "." + m.Relation.Name
			delete(s.rels, m.Relation.ID)
			return nil
		}
		rel, err := s.relationFromMessage(ctx, &m.Relation)
		if err != nil {
			return fmt.Errorf("at LSN %s: %w", lsn, err)
		}
		delete(s.excluded, rel.ID)
		s.rels[rel.ID] = rel
		return nil
	case MsgInsert, MsgUpdate, MsgDelete:
		rel, ok := s.rels[m.RelationID]
		if !ok {
			if _, skip := s.excluded[m.RelationID]; skip {
				s.filtered.Add(1)
				return nil
			}
			return fmt.Errorf("at LSN %s: change for relation %d before its RELATION message", lsn, m.RelationID)
		}
		c := &r.ch
		*c = change.Change{Rel: rel, LSN: lsn, LastCommitLSN: r.lastCommit, Xid: r.xid, HasXid: true, TsMicros: r.ts}
		switch m.Type {
		case MsgInsert:
			c.Op, c.After = change.OpCreate, m.New
		case MsgUpdate:
			c.Op, c.After = change.OpUpdate, m.New
			if m.OldKind != 0 {
				c.Before = m.Old
			}
		case MsgDelete:
			c.Op, c.Before = change.OpDelete, m.Old
		}
		if (c.After != nil && len(c.After) != len(rel.Columns)) || (c.Before != nil && len(c.Before) != len(rel.Columns)) {
			return fmt.Errorf("at LSN %s: %s row of %s has %d columns, its relation %d", lsn, m.Type, rel.QualifiedName(), max(len(c.After), len(c.Before)), len(rel.Columns))
		}
		return r.h.Change(c)
	case MsgLogicalMessage:
		c := &r.ch
		*c = change.Change{Op: change.OpMessage, LSN: m.MessageLSN, LastCommitLSN: r.lastCommit,
			Message: change.Message{Prefix: m.Prefix, Content: m.Content, Transactional: m.Transactional}}
		if c.LSN == 0 {
			c.LSN = lsn
		}
		if m.Transactional && r.inTxn {
			c.Xid, c.HasXid, c.TsMicros = r.xid, true, r.ts
		} else {
			// No BEGIN: Debezium stamps the time it saw the message.
			c.TsMicros = time.Now().UnixMicro()
		}
		return r.h.Change(c)
	case MsgTruncate:
		for _, id := range m.RelationIDs {
			rel, ok := s.rels[id]
			if !ok {
				continue
			}
			r.ch = change.Change{Op: change.OpTruncate, Rel: rel, LSN: lsn, LastCommitLSN: r.lastCommit, Xid: r.xid, HasXid: true, TsMicros: r.ts}
			if err := r.h.Change(&r.ch); err != nil {
				return err
			}
		}
	}
	return nil
}

// statusSender sends standby status updates: within a second of a newly
// confirmed position, at once when the server asks, and every
// StatusInterval anyway, asking for a keepalive back so that an idle
// stream learns the server's position. It writes to the replication
// connection while the streaming goroutine reads it; the two directions
// of the socket are independent and pgconn's writer is used by no one
// else during the stream.
type statusSender struct {
	src      *Source
	replyNow chan struct{}
	sent     change.LSN
	lastSend time.Time
}

func (st *statusSender) requestReply() {
	select {
	case st.replyNow <- struct{}{}:
	default:
	}
}

func (st *statusSender) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.replyNow:
			st.send(false)
		case <-tick.C:
			if st.src.confirmed.load() != st.sent {
				st.send(false)
			} else if time.Since(st.lastSend) >= st.src.cfg.StatusInterval {
				st.send(true)
			}
		}
	}
}

func (st *statusSender) send(askReply bool) {
	pos := st.src.confirmed.load()
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), st.src.repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pglogrepl.LSN(pos), ReplyRequested: askReply,
	})
	if err != nil {
		st.src.log.Warn("standby status update failed", "err", err)
		return
	}
	st.sent, st.lastSend = pos, time.Now()
}

// FlushStatus sends a final standby status update with the confirmed
// position; call it after Stream returned, before Close.
func (s *Source) FlushStatus() error {
	if s.repl == nil || s.repl.IsClosed() {
		return nil
	}
	return pglogrepl.SendStandbyStatusUpdate(context.Background(), s.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: pglogrepl.LSN(s.confirmed.load())})
}

// readBatch is the socket receive low-water mark while streaming: a read
// that finds the socket empty sleeps until this much has arrived, instead
// of waking for every small message. A read deadline, renewed whenever it
// expires, picks up whatever is pending below the mark, so a quiet stream
// is delayed by at most readFlush. A read that times out is retried by the
// stream loop and returns what is pending at once: a non-blocking read
// ignores the low-water mark.
const (
	readBatch = 16 << 10
	readFlush = 5 * time.Millisecond
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
