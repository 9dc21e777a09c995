package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

type groupRow struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Members      int    `json:"members"`
	Topics       int    `json:"topics"`
	// Lag is the sum of every partition's lag, -1 when some is unknown.
	Lag   int64  `json:"lag"`
	Error string `json:"error,omitempty"`
}

type memberInfo struct {
	MemberID   string   `json:"member_id"`
	InstanceID *string  `json:"instance_id"`
	ClientID   string   `json:"client_id"`
	ClientHost string   `json:"client_host"`
	Assigned   []string `json:"assigned"` // topic/partition
}

type partitionLag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"` // -1: none
	End       int64  `json:"end"`
	Lag       int64  `json:"lag"` // -1: unknown
	MemberID  string `json:"member_id,omitempty"`
}

type groupInfo struct {
	groupRow
	MemberList []memberInfo   `json:"member_list"`
	Partitions []partitionLag `json:"partitions"`
}

// listGroups answers every consumer group with its state, member count and
// total lag, from three batched requests (list, describe, offsets) however
// many groups there are.
func (c *Console) listGroups(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	listed, err := c.adm.ListGroups(ctx)
	if err != nil {
		c.kafkaError(w, "list groups", err)
		return
	}
	names := listed.Groups()
	rows := []groupRow{}
	if len(names) > 0 {
		lags, err := c.adm.Lag(ctx, names...)
		if err != nil {
			c.kafkaError(w, "describe groups", err)
			return
		}
		for _, l := range lags.Sorted() {
			rows = append(rows, groupSummary(l))
		}
	}
	writeJSON(w, http.StatusOK, rows)
}

func groupSummary(l kadm.DescribedGroupLag) groupRow {
	row := groupRow{Group: l.Group, State: l.State, ProtocolType: l.ProtocolType, Members: len(l.Members)}
	if err := l.Error(); err != nil {
		row.Error = err.Error()
	}
	row.Topics = len(l.Lag)
	for _, m := range l.Lag.Sorted() {
		if m.Lag < 0 || row.Lag < 0 {
			row.Lag = -1
			continue
		}
		row.Lag += m.Lag
	}
	return row
}

func (c *Console) getGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("group")
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	lags, err := c.adm.Lag(ctx, name)
	if err != nil {
		c.kafkaError(w, "describe group", err)
		return
	}
	l, ok := lags[name]
	if !ok || l.State == "Dead" {
		writeError(w, http.StatusNotFound, "no consumer group "+strconv.Quote(name))
		return
	}
	info := groupInfo{groupRow: groupSummary(l), MemberList: []memberInfo{}, Partitions: []partitionLag{}}
	for _, m := range l.Members {
		mi := memberInfo{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost, Assigned: []string{}}
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				for _, p := range t.Partitions {
					mi.Assigned = append(mi.Assigned, t.Topic+"/"+strconv.Itoa(int(p)))
				}
			}
		}
		info.MemberList = append(info.MemberList, mi)
	}
	for _, m := range l.Lag.Sorted() {
		pl := partitionLag{Topic: m.Topic, Partition: m.Partition, Committed: m.Commit.At, End: m.End.Offset, Lag: m.Lag}
		if m.Member != nil {
			pl.MemberID = m.Member.MemberID
		}
		info.Partitions = append(info.Partitions, pl)
	}
	writeJSON(w, http.StatusOK, info)
}

type resetRequest struct {
	// To is "start", "end" or "timestamp".
	To        string `json:"to"`
	Timestamp int64  `json:"timestamp"` // Unix ms, with To "timestamp"
	// Topics limits the reset; empty means every topic the group has
	// committed offsets for.
	Topics []string `json:"topics"`
}

// resetGroup moves a group's committed offsets to the start, the end or a
// timestamp. As with kafka-consumer-groups.sh, the group must have no
// active members.
func (c *Console) resetGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("group")
	var req resetRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	described, err := c.adm.DescribeGroups(ctx, name)
	if err != nil {
		c.kafkaError(w, "describe group", err)
		return
	}
	if d, ok := described[name]; ok && len(d.Members) > 0 {
		writeError(w, http.StatusConflict, "group "+strconv.Quote(name)+" has "+strconv.Itoa(len(d.Members))+" active members: stop its consumers first, then reset")
		return
	}
	topics := req.Topics
	if len(topics) == 0 {
		committed, err := c.adm.FetchOffsets(ctx, name)
		if err != nil {
			c.kafkaError(w, "fetch group offsets", err)
			return
		}
		for t := range committed.Offsets() {
			topics = append(topics, t)
		}
		slices.Sort(topics)
	}
	if len(topics) == 0 {
		writeError(w, http.StatusBadRequest, "topics: the group has no committed offsets; name the topics to reset")
		return
	}
	var listed kadm.ListedOffsets
	switch strings.ToLower(req.To) {
	case "start":
		listed, err = c.adm.ListStartOffsets(ctx, topics...)
	case "end":
		listed, err = c.adm.ListEndOffsets(ctx, topics...)
	case "timestamp":
		listed, err = c.adm.ListOffsetsAfterMilli(ctx, req.Timestamp, topics...)
	default:
		writeError(w, http.StatusBadRequest, `to: want "start", "end" or "timestamp"`)
		return
	}
	if err != nil {
		c.kafkaError(w, "list offsets", err)
		return
	}
	if err := listed.Error(); err != nil {
		c.kafkaError(w, "list offsets", err)
		return
	}
	resps, err := c.adm.CommitOffsets(ctx, name, listed.Offsets())
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		c.kafkaError(w, "commit offsets", err)
		return
	}
	n := 0
	resps.Each(func(kadm.OffsetResponse) { n++ })
	writeJSON(w, http.StatusOK, map[string]any{"group": name, "partitions": n})
}

func (c *Console) deleteGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("group")
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	resp, err := c.adm.DeleteGroup(ctx, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "delete group "+strconv.Quote(name)+": "+err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
