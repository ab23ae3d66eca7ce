package torch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/torch"
)

// The distributed tests run real processes: the test binary started again
// with distRoleEnv set runs TestDistWorker as one rank and prints its
// results as JSON on stdout.
const distRoleEnv = "GOMIOIR_TEST_DIST_ROLE"

// freePort returns a TCP port that was free a moment ago on loopback.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type distResult struct {
	Sum, Mean, Bcast []float64
	Ints             []int64
	Store            string
	Err              string
	Elapsed          float64
}

// runRanks starts world workers in role and returns their results.
func runRanks(t *testing.T, role string, world int, timeout time.Duration) []distResult {
	t.Helper()
	master := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	out := make([]distResult, world)
	var wg sync.WaitGroup
	for r := range world {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestDistWorker$", "-test.v")
			cmd.Env = append(os.Environ(), distRoleEnv+"="+role, "RANK="+strconv.Itoa(r),
				"WORLD_SIZE="+strconv.Itoa(world), "MASTER="+master, "MIOIR_NUM_THREADS=1",
				"DIST_TIMEOUT="+timeout.String())
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			err := cmd.Run()
			if role == "die" && r == 1 {
				return // exits on purpose
			}
			for _, line := range strings.Split(so.String(), "\n") {
				if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
					if json.Unmarshal([]byte(rest), &out[r]) == nil {
						return
					}
				}
			}
			out[r].Err = fmt.Sprintf("no result (exit %v): %s %s", err, so.String(), se.String())
		}()
	}
	wg.Wait()
	return out
}

// TestDistWorker is one rank of the tests below; it does nothing unless
// started by them.
func TestDistWorker(t *testing.T) {
	role := os.Getenv(distRoleEnv)
	if role == "" {
		t.Skip("a worker of the distributed tests, started by them")
	}
	rank, _ := strconv.Atoi(os.Getenv("RANK"))
	world, _ := strconv.Atoi(os.Getenv("WORLD_SIZE"))
	timeout, _ := time.ParseDuration(os.Getenv("DIST_TIMEOUT"))
	var res distResult
	start := time.Now()
	err := distWork(role, rank, world, timeout, &res)
	if err != nil {
		res.Err = err.Error()
	}
	res.Elapsed = time.Since(start).Seconds()
	js, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", js)
}

func distWork(role string, rank, world int, timeout time.Duration, res *distResult) error {
	// Small buckets, so that the collectives below cross bucket boundaries.
	g, err := torch.NewGroup(context.Background(), os.Getenv("MASTER"), rank, world,
		&torch.GroupOptions{Timeout: timeout, BucketBytes: 64})
	if err != nil {
		return err
	}
	defer g.Close()
	s := torch.NewScope(torch.NoGrad)
	defer s.Close()
	switch role {
	case "collectives":
		if rank == 0 {
			if err := g.Set("greeting", []byte("from rank 0")); err != nil {
				return err
			}
		}
		v, err := g.Get("greeting")
		if err != nil {
			return err
		}
		res.Store = string(v)
		// Three float tensors (5, 2x3 and 40 elements: buckets of one, two and
		// a large one alone) and an int64 tensor, valued by rank.
		r := float64(rank + 1)
		a, _ := torch.Full(s, []int64{5}, r, nil)
		b, _ := torch.Full(s, []int64{2, 3}, 10*r, nil)
		c, _ := torch.Full(s, []int64{40}, 100*r, nil)
		n, _ := torch.Full(s, []int64{3}, r, &torch.Options{DType: torch.Int64})
		if err := g.AllReduce([]*torch.Tensor{a, b, c, n}, torch.Sum); err != nil {
			return err
		}
		for _, x := range []*torch.Tensor{a, b, c} {
			v, err := torch.ToSlice[float32](x)
			if err != nil {
				return err
			}
			res.Sum = append(res.Sum, float64(v[0]), float64(v[len(v)-1]))
		}
		if res.Ints, err = torch.ToSlice[int64](n); err != nil {
			return err
		}
		m, _ := torch.Full(s, []int64{7}, r, &torch.Options{DType: torch.Float64})
		if err := g.AllReduce([]*torch.Tensor{m}, torch.Mean); err != nil {
			return err
		}
		if res.Mean, err = torch.ToSlice[float64](m); err != nil {
			return err
		}
		// A parameter that tracks gradients is broadcast in place.
		p, err := torch.Full(nil, []int64{4}, r, nil)
		if err != nil {
			return err
		}
		defer p.Close()
		if err := p.SetRequiresGrad(true); err != nil {
			return err
		}
		if err := g.Broadcast([]*torch.Tensor{p}, 1); err != nil {
			return err
		}
		v32, err := torch.ToSlice[float32](p)
		if err != nil {
			return err
		}
		for _, x := range v32 {
			res.Bcast = append(res.Bcast, float64(x))
		}
		if err := g.AllReduce([]*torch.Tensor{n}, torch.Mean); err == nil {
			return fmt.Errorf("the mean of int64 tensors did not fail")
		}
		return g.Barrier()
	case "die":
		if err := g.Barrier(); err != nil {
			return err
		}
		if rank == 1 {
			os.Exit(3) // a dead peer: its sockets close with it
		}
		x, _ := torch.Full(s, []int64{8}, 1, nil)
		return g.AllReduce([]*torch.Tensor{x}, torch.Sum)
	case "alone":
		return fmt.Errorf("rank %d joined a group of %d alone", rank, world)
	}
	return fmt.Errorf("unknown role %q", role)
}

func TestGroupCollectives(t *testing.T) {
	res := runRanks(t, "collectives", 2, time.Minute)
	for r, x := range res {
		require.Empty(t, x.Err, "rank %d", r)
		require.Equal(t, "from rank 0", x.Store)
		// Ranks 1 and 2 contribute r, 10r, 100r: sums 3, 30, 300.
		require.Equal(t, []float64{3, 3, 30, 30, 300, 300}, x.Sum, "rank %d", r)
		require.Equal(t, []int64{3, 3, 3}, x.Ints)
		require.Equal(t, []float64{1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5}, x.Mean)
		require.Equal(t, []float64{2, 2, 2, 2}, x.Bcast, "rank 1's values everywhere")
	}
}

func TestGroupDeadPeer(t *testing.T) {
	const timeout = 20 * time.Second
	res := runRanks(t, "die", 2, timeout)
	require.NotEmpty(t, res[0].Err, "the survivor's all-reduce succeeded without its peer")
	require.Contains(t, res[0].Err, "all_reduce")
	require.Less(t, res[0].Elapsed, timeout.Seconds()+5, "the survivor waited past the timeout: %s", res[0].Err)
	t.Logf("survivor after %.1f s: %s", res[0].Elapsed, res[0].Err)
}

func TestGroupRendezvousTimeout(t *testing.T) {
	master := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	start := time.Now()
	g, err := torch.NewGroup(context.Background(), master, 0, 2, &torch.GroupOptions{Timeout: 2 * time.Second})
	if g != nil {
		g.Close()
	}
	require.Error(t, err, "a group of two formed with one rank")
	require.Contains(t, err.Error(), "rank 0 of 2")
	require.Less(t, time.Since(start), 30*time.Second)
	t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
}

func TestGroupBadArguments(t *testing.T) {
	for _, c := range []struct {
		master      string
		rank, world int
		want        string
	}{
		{"127.0.0.1:1234", 2, 2, "outside world size"},
		{"127.0.0.1", 0, 1, "master address"},
		{"127.0.0.1:99999", 0, 1, "not a port"},
	} {
		_, err := torch.NewGroup(context.Background(), c.master, c.rank, c.world, nil)
		require.ErrorContains(t, err, c.want)
	}
	_, err := torch.NewGroup(context.Background(), "127.0.0.1:1234", 0, 1, &torch.GroupOptions{Backend: torch.NCCL})
	if !torch.BackendAvailable(torch.NCCL) {
		require.ErrorContains(t, err, "not compiled")
	}
}

// TestGroupOneRank: a group of one (Gloo on the CPU; NCCL on a GPU where the
// binding has it, which scripts/gpu-check.sh runs) reduces to itself:
// all-reduce sum and mean return the input, broadcast and barrier return.
func TestGroupOneRank(t *testing.T) {
	backends := []torch.Backend{torch.Gloo}
	if torch.BackendAvailable(torch.NCCL) && torch.CUDAAvailable() {
		backends = append(backends, torch.NCCL)
	} else {
		t.Log("NCCL: not compiled in or no GPU; Gloo only")
	}
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			dev := torch.CPU
			if b == torch.NCCL {
				dev = torch.CUDA(0)
			}
			g, err := torch.NewGroup(context.Background(), fmt.Sprintf("127.0.0.1:%d", freePort(t)), 0, 1,
				&torch.GroupOptions{Backend: b, Timeout: time.Minute})
			require.NoError(t, err)
			defer g.Close()
			s := torch.NewScope(torch.NoGrad)
			defer s.Close()
			x, err := torch.FromSlice(s, []float32{1, 2, 3}, 3)
			require.NoError(t, err)
			x = x.ToDevice(dev)
			y, err := torch.FromSlice(s, []float32{4, 5}, 2)
			require.NoError(t, err)
			y = y.ToDevice(dev)
			require.NoError(t, g.AllReduce([]*torch.Tensor{x, y}, torch.Sum))
			require.NoError(t, g.AllReduce([]*torch.Tensor{x, y}, torch.Mean))
			require.NoError(t, g.Broadcast([]*torch.Tensor{x}, 0))
			require.NoError(t, g.Barrier())
			xv, err := torch.ToSlice[float32](x.ToDevice(torch.CPU))
			require.NoError(t, err)
			yv, err := torch.ToSlice[float32](y.ToDevice(torch.CPU))
			require.NoError(t, err)
			require.Equal(t, []float32{1, 2, 3}, xv)
			require.Equal(t, []float32{4, 5}, yv)
			t.Logf("%v on %v: one-rank all-reduce, broadcast and barrier", b, dev)
		})
	}
}
