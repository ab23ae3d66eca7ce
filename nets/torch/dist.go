package torch

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// Backend is the engine a Group communicates with: c10d's Gloo (CPU
// tensors, over TCP) or NCCL (CUDA tensors; only in CUDA builds of libtorch
// whose binding was compiled with USE_C10D_NCCL, see BackendAvailable).
type Backend int32

// Backends.
const (
	Gloo Backend = Backend(capi.Gloo)
	NCCL Backend = Backend(capi.NCCL)
)

func (b Backend) String() string {
	switch b {
	case Gloo:
		return "gloo"
	case NCCL:
		return "nccl"
	}
	return "backend(" + strconv.Itoa(int(b)) + ")"
}

// BackendAvailable reports whether b is compiled into this binding.
func BackendAvailable(b Backend) bool {
	ok, err := capi.DistAvailable(capi.Backend(b))
	return err == nil && ok
}

// Defaults of GroupOptions, those of torch.distributed and of
// DistributedDataParallel.
const (
	DefaultGroupTimeout = 30 * time.Minute
	DefaultBucketBytes  = 25 << 20
)

// GroupOptions configure NewGroup. A nil *GroupOptions means the defaults.
type GroupOptions struct {
	// Backend is Gloo (the zero value) or NCCL.
	Backend Backend
	// Timeout bounds the rendezvous and every collective: a rank that does
	// not answer within it (dead, hung or partitioned) makes the operation
	// fail on the others. 0: DefaultGroupTimeout.
	Timeout time.Duration
	// Interface is the network interface Gloo binds to ("": the variable
	// GLOO_SOCKET_IFNAME, as torch.distributed reads it; when that is unset
	// too, the interface that routes to the master address, so a hostname
	// that resolves to a loopback address does not cut a machine off).
	Interface string
	// BucketBytes is the largest message a collective sends: tensors are
	// packed into buckets of this size (0: DefaultBucketBytes, DDP's 25 MiB).
	BucketBytes int
}

// Group is a c10d process group: World processes (ranks 0..World-1) that
// reach each other through a TCPStore served by rank 0 at the master
// address, and run collectives on tensors over the Backend. Every rank must
// call the same collectives in the same order with tensors of the same
// shapes; that is the caller's contract, as in torch.distributed.
//
// A Group's methods may be called from several goroutines (they run one at
// a time), but the order of collectives must be the same on every rank.
// Each blocks the calling goroutine until every rank has taken part, an
// error (a peer that died closes its sockets: the others fail at once), or
// the timeout.
type Group struct {
	mu      sync.Mutex
	store   capi.Store
	group   capi.Group
	rank    int
	world   int
	backend Backend
	timeout time.Duration
	bucket  int64
	closed  bool
}

// NewGroup joins the group of world ranks whose rank 0 serves the rendezvous
// at master ("host:port"): rank 0 listens on the port, the others connect to
// it. It returns when every rank has joined, ctx ends (checked before the
// connection; its deadline, if sooner, replaces the timeout), or the timeout
// passes.
func NewGroup(ctx context.Context, master string, rank, world int, o *GroupOptions) (*Group, error) {
	var opt GroupOptions
	if o != nil {
		opt = *o
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultGroupTimeout
	}
	if opt.BucketBytes <= 0 {
		opt.BucketBytes = DefaultBucketBytes
	}
	if world < 1 || rank < 0 || rank >= world {
		return nil, argError("new_group", "rank %d outside world size %d", rank, world)
	}
	if !BackendAvailable(opt.Backend) {
		return nil, argError("new_group", "backend %v is not compiled into this binding", opt.Backend)
	}
	host, portStr, err := net.SplitHostPort(master)
	if err != nil {
		return nil, argError("new_group", "master address %q: %v", master, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return nil, argError("new_group", "master port %q is not a port number", portStr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := opt.Timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Millisecond, time.Until(dl))
	}
	iface := opt.Interface
	if iface == "" {
		iface = os.Getenv("GLOO_SOCKET_IFNAME")
	}
	bind := ""
	if iface == "" && opt.Backend == Gloo {
		bind = localAddrToward(host, port)
	}
	g := &Group{rank: rank, world: world, backend: opt.Backend, timeout: opt.Timeout, bucket: int64(opt.BucketBytes)}
	g.store, err = capi.NewTCPStore(host, port, rank == 0, world, timeout)
	if err != nil {
		return nil, fmt.Errorf("torch: rendezvous at %s as rank %d of %d: %w", master, rank, world, fromC(err))
	}
	g.group, err = capi.NewGroup(g.store, "gomioir", capi.Backend(opt.Backend), rank, world, timeout, iface, bind)
	if err != nil {
		capi.FreeStore(g.store)
		return nil, fmt.Errorf("torch: %v process group at %s as rank %d of %d: %w", opt.Backend, master, rank, world, fromC(err))
	}
	return g, nil
}

// localAddrToward returns the local address of the interface that routes to
// host (no packet is sent), or host itself when it is a loopback address.
func localAddrToward(host string, port int) string {
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return ""
	}
	if ips[0].IsLoopback() {
		return ips[0].String()
	}
	c, err := net.Dial("udp", net.JoinHostPort(ips[0].String(), strconv.Itoa(port)))
	if err != nil {
		return ""
	}
	defer c.Close()
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// Rank is this process's rank, World the number of ranks.
func (g *Group) Rank() int  { return g.rank }
func (g *Group) World() int { return g.world }

// Backend is the group's backend.
func (g *Group) Backend() Backend { return g.backend }

// Timeout is the group's timeout (GroupOptions.Timeout).
func (g *Group) Timeout() time.Duration { return g.timeout }

// Set stores val under key in the rendezvous store, for every rank to Get.
func (g *Group) Set(key string, val []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return argError("store_set", "group is closed")
	}
	return g.wrap(capi.StoreSet(g.store, "user/"+key, val))
}

// Get waits for key in the rendezvous store (at most the group's timeout)
// and returns its value.
func (g *Group) Get(key string) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, argError("store_get", "group is closed")
	}
	v, err := capi.StoreGet(g.store, "user/"+key, g.timeout)
	return v, g.wrap(err)
}

// ReduceOp is how AllReduce combines the ranks' tensors.
type ReduceOp int32

// Reductions.
const (
	Sum  ReduceOp = ReduceOp(capi.ReduceSum)
	Mean ReduceOp = ReduceOp(capi.ReduceMean) // floating-point tensors only
)

// AllReduce replaces every tensor of ts, on every rank, with the sum (or
// mean) of that tensor over the ranks, in place. Tensors are sent in
// buckets of GroupOptions.BucketBytes (consecutive tensors of one dtype and
// device flattened into one message), so a model's gradients cost a few
// messages. The sum's order is the backend's; every rank gets the same bits.
func (g *Group) AllReduce(ts []*Tensor, op ReduceOp) error {
	return g.collective("all_reduce", ts, func(ps []capi.Tensor) error {
		return capi.AllReduce(g.group, ps, capi.Collective(op), g.bucket)
	})
}

// Broadcast copies root's ts into the other ranks' ts, in place (outside
// autograd, so parameters can be broadcast directly).
func (g *Group) Broadcast(ts []*Tensor, root int) error {
	return g.collective("broadcast", ts, func(ps []capi.Tensor) error {
		return capi.Broadcast(g.group, ps, root, g.bucket)
	})
}

// Barrier returns when every rank has called it.
func (g *Group) Barrier() error {
	return g.collective("barrier", nil, func([]capi.Tensor) error { return capi.Barrier(g.group) })
}

func (g *Group) collective(op string, ts []*Tensor, f func([]capi.Tensor) error) error {
	ps, err := ptrs(ts)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return argError(op, "group is closed")
	}
	err = f(ps)
	runtime.KeepAlive(ts)
	return g.wrap(err)
}

// wrap names the rank in a failed call's error.
func (g *Group) wrap(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := fromC(err).(*Error); ok {
		return &Error{Op: e.Op, Msg: fmt.Sprintf("rank %d of %d: %s", g.rank, g.world, e.Msg), oom: e.oom}
	}
	return err
}

// Close leaves the group and closes the store connection (rank 0's store
// server stops with it). Close is idempotent.
func (g *Group) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	capi.FreeGroup(g.group)
	capi.FreeStore(g.store)
	return nil
}
