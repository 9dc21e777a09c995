package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Distributed mode: workers that share a group.id join one Kafka consumer
// group. The group's leader assigns connectors, not partitions: each
// member's join metadata names its REST address and the connectors it
// runs, and each member's assignment names the connectors it should run.
// Kafka's group coordinator does the membership, failure detection and
// leader election; pgmotion writes no consensus of its own.
//
// pgmotion workers speak their own protocol name, so a group.id shared
// with Kafka Connect workers is refused by the coordinator
// (INCONSISTENT_GROUP_PROTOCOL) rather than silently split.

// groupProtocol is the balancer's protocol name.
const groupProtocol = "pgmotion-connect-v1"

type memberMeta struct {
	WorkerID   string   `json:"worker_id"`
	Connectors []string `json:"connectors"`
	// Incarnation tells two members with one WorkerID apart: the worker
	// started last has the larger one. Only one process can serve a REST
	// address, so the others are dead predecessors that the coordinator
	// has not expired yet.
	Incarnation int64 `json:"incarnation,omitempty"`
	// Streaming names the connectors whose task this worker runs with its
	// source open. When two members claim a connector (a worker that
	// rejoined after a broker restart, while a copy elsewhere waits for
	// the slot), the leader keeps it where it streams.
	Streaming []string `json:"streaming,omitempty"`
}

type memberAssignment struct {
	Leader     string   `json:"leader"`
	Connectors []string `json:"connectors"`
}

// membership holds this worker's side of the group.
type membership struct {
	w *Worker

	incarnation int64 // when this worker joined, in Unix nanoseconds

	mu        sync.Mutex
	assigned  map[string]bool
	streaming map[string]bool // connectors whose task has its source open here
	leader    string
	settled   bool   // an assignment has been received
	balanced  string // the connector names of the last balance this worker led
}

func (m *membership) owns(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.assigned[name]
}

// balancer implements kgo.GroupBalancer.
type balancer struct{ m *membership }

func (b balancer) ProtocolName() string { return groupProtocol }
func (b balancer) IsCooperative() bool  { return false }

func (b balancer) JoinGroupMetadata([]string, map[string][]int32, int32) []byte {
	b.m.mu.Lock()
	var mine, streaming []string
	for n := range b.m.assigned {
		mine = append(mine, n)
	}
	for n := range b.m.streaming {
		streaming = append(streaming, n)
	}
	b.m.mu.Unlock()
	sort.Strings(mine)
	sort.Strings(streaming)
	meta, _ := json.Marshal(memberMeta{WorkerID: b.m.w.cfg.WorkerID, Connectors: mine, Incarnation: b.m.incarnation, Streaming: streaming})
	return (&kmsg.ConsumerMemberMetadata{Topics: []string{b.m.w.cfg.ConfigTopic}, UserData: meta}).AppendTo(nil)
}

func (b balancer) ParseSyncAssignment(raw []byte) (map[string][]int32, error) {
	var ca kmsg.ConsumerMemberAssignment
	if err := ca.ReadFrom(raw); err != nil {
		return nil, fmt.Errorf("read connector assignment: %w", err)
	}
	var a memberAssignment
	if len(ca.UserData) > 0 {
		if err := json.Unmarshal(ca.UserData, &a); err != nil {
			return nil, fmt.Errorf("read connector assignment: %w", err)
		}
	}
	set := map[string]bool{}
	for _, n := range a.Connectors {
		set[n] = true
	}
	b.m.mu.Lock()
	b.m.assigned, b.m.leader, b.m.settled = set, a.Leader, true
	b.m.mu.Unlock()
	b.m.w.log.Info("connector assignment", "connectors", a.Connectors, "leader", a.Leader)
	b.m.w.poke()
	out := map[string][]int32{}
	for _, t := range ca.Topics {
		out[t.Topic] = t.Partitions
	}
	return out, nil
}

func (b balancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	return memberBalancer{m: b.m, members: members}, map[string]struct{}{b.m.w.cfg.ConfigTopic: {}}, nil
}

type memberBalancer struct {
	m       *membership
	members []kmsg.JoinGroupResponseMember
}

// Balance spreads the connectors evenly, keeping each on the worker that
// runs it when that worker is still there and not over its share.
func (mb memberBalancer) Balance(map[string]int32) kgo.IntoSyncAssignment {
	type member struct {
		id   string
		meta memberMeta
		got  []string
	}
	ms := make([]*member, 0, len(mb.members))
	for _, jm := range mb.members {
		var cm kmsg.ConsumerMemberMetadata
		var meta memberMeta
		if cm.ReadFrom(jm.ProtocolMetadata) == nil {
			json.Unmarshal(cm.UserData, &meta)
		}
		ms = append(ms, &member{id: jm.MemberID, meta: meta})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].meta.WorkerID+ms[i].id < ms[j].meta.WorkerID+ms[j].id })
	// A member whose WorkerID a newer member has is a dead predecessor:
	// it gets nothing, and the coordinator is asked to drop it.
	metas := make([]memberMeta, len(ms))
	for i, m := range ms {
		metas[i] = m.meta
	}
	var live []*member
	var stale []string
	for i, dead := range predecessors(metas) {
		if dead {
			stale = append(stale, ms[i].id)
		} else {
			live = append(live, ms[i])
		}
	}
	if len(stale) > 0 {
		go mb.m.w.removeMembers(stale, "a newer worker has its id")
	}
	names, _ := mb.m.w.Connectors(context.Background())
	assignConnectors(names, live, func(m *member) []string { return m.meta.Streaming }, func(m *member) []string { return m.meta.Connectors },
		func(m *member, n string) { m.got = append(m.got, n) }, func(m *member) int { return len(m.got) })
	mb.m.mu.Lock()
	mb.m.balanced = fmt.Sprint(names)
	mb.m.mu.Unlock()
	leader := mb.m.w.cfg.WorkerID
	out := make(syncAssignments, 0, len(ms))
	for i, m := range ms {
		a, _ := json.Marshal(memberAssignment{Leader: leader, Connectors: m.got})
		ca := kmsg.ConsumerMemberAssignment{UserData: a}
		if i == 0 {
			// One member holds the config topic's partition, as a
			// consumer group expects; nobody consumes through it.
			ca.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: mb.m.w.cfg.ConfigTopic, Partitions: []int32{0}}}
		}
		out = append(out, kmsg.SyncGroupRequestGroupAssignment{MemberID: m.id, MemberAssignment: ca.AppendTo(nil)})
	}
	return out
}

// predecessors marks the members that a newer member with the same
// WorkerID has replaced: only one process can serve a REST address, so
// they are dead, whatever the coordinator still thinks.
func predecessors(metas []memberMeta) []bool {
	newest := map[string]int64{}
	for _, m := range metas {
		newest[m.WorkerID] = max(newest[m.WorkerID], m.Incarnation)
	}
	out := make([]bool, len(metas))
	for i, m := range metas {
		out[i] = m.Incarnation < newest[m.WorkerID]
	}
	return out
}

type syncAssignments []kmsg.SyncGroupRequestGroupAssignment

func (s syncAssignments) IntoSyncAssignment() []kmsg.SyncGroupRequestGroupAssignment { return s }

// assignConnectors gives each connector to one member: first to the
// member that already runs it if that member is under its fair share
// (the one whose task streams, if two claim it), then to the least
// loaded member.
func assignConnectors[M any](names []string, members []M, streaming, current func(M) []string, give func(M, string), load func(M) int) {
	if len(members) == 0 {
		return
	}
	share := (len(names) + len(members) - 1) / len(members)
	owner := map[string]int{}
	for _, claims := range []func(M) []string{streaming, current} {
		for i, m := range members {
			for _, n := range claims(m) {
				if _, taken := owner[n]; !taken {
					owner[n] = i
				}
			}
		}
	}
	var rest []string
	for _, n := range names {
		if i, ok := owner[n]; ok && load(members[i]) < share {
			give(members[i], n)
			continue
		}
		rest = append(rest, n)
	}
	for _, n := range rest {
		best := 0
		for i := range members {
			if load(members[i]) < load(members[best]) {
				best = i
			}
		}
		give(members[best], n)
	}
}

// setStreaming records whether a connector's task has its source open on
// this worker, for the next join's metadata.
func (w *Worker) setStreaming(name string, on bool) {
	if w.group == nil {
		return
	}
	w.group.mu.Lock()
	defer w.group.mu.Unlock()
	if on {
		w.group.streaming[name] = true
	} else {
		delete(w.group.streaming, name)
	}
}

// rebalanceIfNeeded asks the group to rebalance when this worker led the
// last balance and the set of connectors has changed since.
func (m *membership) rebalanceIfNeeded(names []string, cl *kgo.Client) {
	m.mu.Lock()
	lead := m.leader == m.w.cfg.WorkerID && m.settled && m.balanced != fmt.Sprint(names)
	if lead {
		m.balanced = fmt.Sprint(names)
	}
	m.mu.Unlock()
	if lead {
		m.w.log.Info("connectors changed; rebalancing the worker group")
		cl.ForceRebalance()
	}
}

// groupClientID is the client.id of the worker's group membership: it
// names the worker, so that a worker restarted on the same address can
// tell its dead predecessor's membership from the others.
func (w *Worker) groupClientID() string { return "pgmotion-worker-" + w.cfg.WorkerID }

// removePredecessors asks the coordinator to drop the members that a
// previous process on this worker's address left behind, before this
// one joins. They are dead (this process holds the address) but the
// coordinator keeps them until their session times out, and a member
// that died while joining may hold a connector that runs nowhere.
func (w *Worker) removePredecessors(ctx context.Context) {
	groups, err := kadm.NewClient(w.sink.Client()).DescribeGroups(ctx, w.cfg.GroupID)
	if err != nil {
		w.log.Warn("describe the worker group", "group", w.cfg.GroupID, "err", err)
		return
	}
	var ids []string
	for _, g := range groups {
		for _, m := range g.Members {
			if m.ClientID == w.groupClientID() {
				ids = append(ids, m.MemberID)
			}
		}
	}
	if len(ids) > 0 {
		w.removeMembers(ids, "a previous process on this worker's address left it")
	}
}

// removeMembers asks the group coordinator to remove dead members, as
// their session timeout would, so that their connectors move now. It
// gives up after 5 s; the session timeout remains the fallback.
func (w *Worker) removeMembers(ids []string, why string) {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = w.cfg.GroupID
	for _, id := range ids {
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = id
		req.Members = append(req.Members, m)
	}
	resp, err := req.RequestWith(ctx, w.sink.Client())
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		w.log.Warn("remove dead members from the worker group", "group", w.cfg.GroupID, "members", ids, "err", err)
		return
	}
	w.log.Info("removed dead members from the worker group", "group", w.cfg.GroupID, "members", ids, "why", why)
}

// joinGroup starts this worker's group membership; it ends with the
// client, which Close closes after stopping the connectors.
func (w *Worker) joinGroup() error {
	w.group = &membership{w: w, assigned: map[string]bool{}, streaming: map[string]bool{}, incarnation: time.Now().UnixNano()}
	pctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	w.removePredecessors(pctx)
	cancel()
	cl, err := kgo.NewClient(append(kafkaclient.ConnOpts(w.sink.Client()),
		kgo.ClientID(w.groupClientID()),
		kgo.ConsumerGroup(w.cfg.GroupID),
		kgo.ConsumeTopics(w.cfg.ConfigTopic),
		kgo.Balancers(balancer{m: w.group}),
		kgo.SessionTimeout(w.cfg.SessionTimeout),
		kgo.HeartbeatInterval(w.cfg.HeartbeatInterval),
		kgo.RebalanceTimeout(w.cfg.RebalanceTimeout),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsRevoked(func(context.Context, *kgo.Client, map[string][]int32) {}),
	)...)
	if err != nil {
		return fmt.Errorf("join worker group %q: %w", w.cfg.GroupID, err)
	}
	w.groupClient = cl
	// The client runs the group in the background; polling keeps it
	// fetching the (tiny) config topic and reports group errors.
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			fs := cl.PollFetches(w.ctx)
			if w.ctx.Err() != nil {
				return
			}
			fs.EachError(func(_ string, _ int32, err error) {
				w.log.Warn("worker group", "group", w.cfg.GroupID, "err", err)
			})
		}
	}()
	return nil
}
