package train_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/train"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// The data-parallel tests run real processes on loopback, one intra-op
// thread each: the test binary started again with distJobEnv set to a JSON
// distJob runs TestDistWorker as one rank.
const distJobEnv = "GOMIOIR_TEST_DIST_JOB"

// distJob is one rank's work.
type distJob struct {
	Rank, World int
	Master      string
	Dir         string // Config.Dir (shared by the ranks, as on one machine)
	Out         string // where the rank saves its final weights (rank{r}.safetensors)
	Batch       int    // per rank
	Features    int64  // the prompted SRResNet's width (a different model when changed)
	Resume      bool
	HoldAt      int // after this iteration, print "HOLD" and wait to be killed
	CancelAt    int // after this iteration, cancel this rank's context
	Timeout     time.Duration
	// BenchModel, when set, makes the rank the peer of
	// BenchmarkAllReduceGradients: BenchN all-reduces of that paper model's
	// gradients.
	BenchModel string
	BenchN     int
}

// distPlan is the tests' curriculum: two sequential stages of 3 iterations
// (the optimiser restarts at iteration 4).
func distPlan(t testing.TB) curriculum.Plan {
	plan, err := curriculum.Sequential([]degrade.Task{degrade.Noise, degrade.LowLight}, 3, 1)
	require.NoError(t, err)
	return plan
}

// distModelConfig is a small SRResNet with explicit prompts (16 modulated
// blocks, as the paper's SRResNet-EP, 4 features wide).
func distModelConfig(features int64) mioir.Config {
	return mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: features, Prompted: true}, Prompt: prompt.Explicit}
}

func distTrainConfig(t testing.TB, batch int, dir string) train.Config {
	return train.Config{Plan: distPlan(t), Batch: batch, Patch: 32, Seed: 5, LogEvery: 1,
		CheckpointEvery: 2, Dir: dir, Logger: quiet, Workers: 1}
}

func distSource(t testing.TB) data.Source {
	src, err := data.Clean(testutil.NoisyImages(t, 3, 64, 64, 3), degrade.Train(), 1, nil)
	require.NoError(t, err)
	return src
}

// TestDistWorker is one rank of the tests below; it does nothing unless
// started by them.
func TestDistWorker(t *testing.T) {
	js := os.Getenv(distJobEnv)
	if js == "" {
		t.Skip("a rank of the data-parallel tests, started by them")
	}
	var job distJob
	require.NoError(t, json.Unmarshal([]byte(js), &job))
	torch.SetNumThreads(1)
	err := distWork(t, job)
	if err != nil {
		fmt.Printf("ERROR %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		fmt.Println("DONE")
	}
}

func distWork(t *testing.T, job distJob) error {
	g, err := torch.NewGroup(context.Background(), job.Master, job.Rank, job.World, &torch.GroupOptions{Timeout: job.Timeout})
	if err != nil {
		return err
	}
	defer g.Close()
	if job.BenchModel != "" {
		grads, err := paperGradients(job.BenchModel)
		if err != nil {
			return err
		}
		defer closeAll(grads)
		if err := g.AllReduce(grads[:1], torch.Sum); err != nil { // as the benchmark's warm-up
			return err
		}
		for range job.BenchN {
			if err := g.AllReduce(grads, torch.Mean); err != nil {
				return err
			}
		}
		return nil
	}
	m, err := mioir.New(distModelConfig(job.Features), 11+uint64(job.Rank)) // rank 0's weights must win
	if err != nil {
		return err
	}
	defer m.Close()
	cfg := distTrainConfig(t, job.Batch, job.Dir)
	cfg.Group = g
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.OnProgress = func(p train.Progress) {
		if p.Iter == job.CancelAt {
			cancel()
		}
		if p.Iter == job.HoldAt {
			fmt.Println("HOLD")
			select {}
		}
	}
	tr, err := train.NewTrainer(m, distSource(t), cfg)
	if err != nil {
		return err
	}
	defer tr.Close()
	if job.Resume {
		if err := tr.Resume(""); err != nil {
			return err
		}
	}
	if err := tr.Run(ctx); err != nil {
		return fmt.Errorf("run stopped after iteration %d: %w", tr.Iter(), err)
	}
	return m.Save(filepath.Join(job.Out, fmt.Sprintf("rank%d.safetensors", job.Rank)))
}

// rankProc is a running rank.
type rankProc struct {
	cmd   *exec.Cmd
	held  chan struct{} // closed when it printed HOLD
	done  chan struct{} // closed when it exited
	out   string        // its last status line: DONE or ERROR ...
	ended time.Time
	mu    sync.Mutex
	log   bytes.Buffer
}

func loopbackMaster(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// startRanks starts one process per job.
func startRanks(t *testing.T, jobs []distJob) []*rankProc {
	t.Helper()
	ps := make([]*rankProc, len(jobs))
	for i, job := range jobs {
		js, err := json.Marshal(job)
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^TestDistWorker$")
		cmd.Env = append(os.Environ(), distJobEnv+"="+string(js), "MIOIR_NUM_THREADS=1")
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		p := &rankProc{cmd: cmd, held: make(chan struct{}), done: make(chan struct{})}
		cmd.Stderr = &p.log
		require.NoError(t, cmd.Start())
		go func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case line == "HOLD":
					close(p.held)
				case line == "DONE" || strings.HasPrefix(line, "ERROR "):
					p.mu.Lock()
					p.out = line
					p.mu.Unlock()
				}
			}
			_ = cmd.Wait()
			p.ended = time.Now()
			close(p.done)
		}()
		ps[i] = p
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-p.done
		})
	}
	return ps
}

// wait waits for every rank to exit (at most limit) and returns their
// status lines.
func wait(t *testing.T, ps []*rankProc, limit time.Duration) []string {
	t.Helper()
	deadline := time.After(limit)
	out := make([]string, len(ps))
	for i, p := range ps {
		select {
		case <-p.done:
		case <-deadline:
			t.Fatalf("rank %d still running after %v", i, limit)
		}
		p.mu.Lock()
		out[i] = p.out
		p.mu.Unlock()
		if out[i] == "" {
			out[i] = "no status; stderr: " + p.log.String()
		}
	}
	return out
}

func jobsFor(t *testing.T, world, batch int, dir, out string) []distJob {
	master := loopbackMaster(t)
	jobs := make([]distJob, world)
	for r := range jobs {
		jobs[r] = distJob{Rank: r, World: world, Master: master, Dir: dir, Out: out, Batch: batch,
			Features: 4, Timeout: time.Minute}
	}
	return jobs
}

// TestDataParallelMatchesOneProcess: two ranks with batch 2 end with the
// weights one process with batch 4 reaches (same samples, averaged
// gradients), within 1e-5 relative, and with bit-identical weights on both
// ranks.
func TestDataParallelMatchesOneProcess(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	ps := startRanks(t, jobsFor(t, 2, 2, dir, out))

	// The reference, meanwhile, in this process: batch 4, no group.
	threads := torch.NumThreads()
	torch.SetNumThreads(1)
	defer torch.SetNumThreads(threads)
	m, err := mioir.New(distModelConfig(4), 11)
	require.NoError(t, err)
	defer m.Close()
	tr, err := train.NewTrainer(m, distSource(t), distTrainConfig(t, 4, t.TempDir()))
	require.NoError(t, err)
	require.NoError(t, tr.Run(context.Background()))
	refHist := tr.History()
	tr.Close()
	ref := filepath.Join(out, "single.safetensors")
	require.NoError(t, m.Save(ref))

	for r, s := range wait(t, ps, 5*time.Minute) {
		require.Equal(t, "DONE", s, "rank %d", r)
	}
	r0, r1, one := testutil.FileTensors(t, filepath.Join(out, "rank0.safetensors")), testutil.FileTensors(t, filepath.Join(out, "rank1.safetensors")), testutil.FileTensors(t, ref)
	require.Equal(t, len(one), len(r0))
	worst, worstName := 0.0, ""
	for k, v := range r0 {
		testutil.RequireSameBits(t, v, r1[k], "rank 0's and rank 1's "+k)
		if rel, _ := testutil.RelL2(v, one[k]); rel > worst {
			worst, worstName = rel, k
		}
	}
	t.Logf("2 ranks x batch 2 vs 1 process x batch 4 after %d iterations: worst relative L2 %.2e (%s)", distPlan(t).TotalIters(), worst, worstName)
	require.LessOrEqual(t, worst, 1e-5)
	// The ranks' losses are reduced: rank 0's history is the global batch's.
	var hist train.History
	js, err := os.ReadFile(filepath.Join(dir, train.HistoryFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &hist))
	require.Len(t, hist.Loss, len(refHist.Loss))
	for i, p := range hist.Loss {
		require.InEpsilon(t, refHist.Loss[i].Loss, p.Loss, 1e-4, "loss at iteration %d", p.Iter)
	}
}

// TestDataParallelKillAndResume: both ranks killed with SIGKILL after the
// checkpoint of iteration 4 and started again with Resume end exactly where
// an uninterrupted two-rank run ends (raw weights, EMA, history).
func TestDataParallelKillAndResume(t *testing.T) {
	full, cut := t.TempDir(), t.TempDir()
	a := startRanks(t, jobsFor(t, 2, 2, full, t.TempDir()))
	cutJobs := jobsFor(t, 2, 2, cut, t.TempDir())
	for r := range cutJobs {
		cutJobs[r].HoldAt = 4
	}
	b := startRanks(t, cutJobs)
	for _, p := range b {
		select {
		case <-p.held:
		case <-p.done:
			t.Fatalf("a rank exited before iteration 4: %s %s", p.out, p.log.String())
		case <-time.After(5 * time.Minute):
			t.Fatal("no rank reached iteration 4")
		}
	}
	for _, p := range b {
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	}
	wait(t, b, time.Minute)
	resumed := jobsFor(t, 2, 2, cut, t.TempDir())
	for r := range resumed {
		resumed[r].Resume = true
	}
	for r, s := range wait(t, startRanks(t, resumed), 5*time.Minute) {
		require.Equal(t, "DONE", s, "resumed rank %d", r)
	}
	for r, s := range wait(t, a, 5*time.Minute) {
		require.Equal(t, "DONE", s, "uninterrupted rank %d", r)
	}
	for _, name := range []string{train.LatestModel, train.LatestEMAModel} {
		x, y := weightsOf(t, filepath.Join(full, name)), weightsOf(t, filepath.Join(cut, name))
		require.Equal(t, len(x), len(y))
		for k, v := range x {
			require.Truef(t, bytes.Equal(v, y[k]), "%s: %s differs after the kill and resume", name, k)
		}
	}
	h1, err := os.ReadFile(filepath.Join(full, train.HistoryFile))
	require.NoError(t, err)
	h2, err := os.ReadFile(filepath.Join(cut, train.HistoryFile))
	require.NoError(t, err)
	require.JSONEq(t, string(h1), string(h2))
}

// TestDataParallelDeadRank: a rank killed (SIGKILL) or frozen (SIGSTOP)
// while the other waits for it in the gradients' all-reduce makes the other
// exit with an error that says so, within the group's timeout; the last
// checkpoint stays loadable.
func TestDataParallelDeadRank(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
		t.Run(sig.String(), func(t *testing.T) {
			const timeout = 8 * time.Second
			dir := t.TempDir()
			jobs := jobsFor(t, 2, 2, dir, t.TempDir())
			for r := range jobs {
				jobs[r].Timeout = timeout
			}
			jobs[1].HoldAt = 4 // rank 0 goes on into iteration 5's all-reduce
			ps := startRanks(t, jobs)
			select {
			case <-ps[1].held:
			case <-time.After(5 * time.Minute):
				t.Fatal("rank 1 did not reach iteration 4")
			}
			time.Sleep(500 * time.Millisecond) // rank 0 is in the all-reduce
			sent := time.Now()
			require.NoError(t, ps[1].cmd.Process.Signal(sig))
			select {
			case <-ps[0].done:
			case <-time.After(timeout + 30*time.Second):
				t.Fatalf("rank 0 still running %v after rank 1 got %v", timeout+30*time.Second, sig)
			}
			if sig == syscall.SIGSTOP {
				_ = ps[1].cmd.Process.Kill()
			}
			took := ps[0].ended.Sub(sent)
			s := wait(t, ps[:1], time.Second)[0]
			t.Logf("%v: rank 0 exited %v later: %s", sig, took.Round(time.Millisecond), s)
			require.True(t, strings.HasPrefix(s, "ERROR "), s)
			require.Contains(t, s, "all-reduce")
			require.Contains(t, s, "rank 0 of 2")
			require.Less(t, took, timeout+10*time.Second)
			m, err := mioir.Load(filepath.Join(dir, "stage1_net_g.safetensors"))
			require.NoError(t, err)
			m.Close()
			f, err := safetensors.ReadFile(filepath.Join(dir, train.StateFile))
			require.NoError(t, err)
			require.Contains(t, f.Metadata["state"], `"iter":4`)
		})
	}
}

// TestDataParallelRefusesMismatch: a rank with another batch or another
// model is refused at the rendezvous, and both ranks say what differs.
func TestDataParallelRefusesMismatch(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*distJob)
		want   string
	}{
		{"batch", func(j *distJob) { j.Batch = 3 }, "batch per rank: 3 (rank 0: 2)"},
		{"model", func(j *distJob) { j.Features = 8 }, `"Features":8`},
	} {
		t.Run(c.name, func(t *testing.T) {
			jobs := jobsFor(t, 2, 2, t.TempDir(), t.TempDir())
			c.change(&jobs[1])
			for r, s := range wait(t, startRanks(t, jobs), 2*time.Minute) {
				require.True(t, strings.HasPrefix(s, "ERROR "), "rank %d: %s", r, s)
				require.Contains(t, s, "rendezvous refused")
				require.Contains(t, s, "rank 1 differs from rank 0")
				require.Contains(t, s, c.want)
				t.Logf("rank %d: %s", r, s)
			}
		})
	}
}

// TestDataParallelCancel: one rank's context ending stops both ranks after
// the same iteration; rank 0 writes its checkpoint.
func TestDataParallelCancel(t *testing.T) {
	dir := t.TempDir()
	jobs := jobsFor(t, 2, 2, dir, t.TempDir())
	jobs[1].CancelAt = 4 // seen by rank 0 in iteration 5's exchange
	s := wait(t, startRanks(t, jobs), 5*time.Minute)
	require.Equal(t, "ERROR run stopped after iteration 5: "+train.ErrStoppedByPeer.Error(), s[0])
	require.Equal(t, "ERROR run stopped after iteration 5: "+context.Canceled.Error(), s[1])
	f, err := safetensors.ReadFile(filepath.Join(dir, train.StateFile))
	require.NoError(t, err)
	require.Contains(t, f.Metadata["state"], `"iter":5`)
	require.False(t, errors.Is(context.Canceled, train.ErrStoppedByPeer))
}

// paperGradients returns tensors shaped as the trained parameters of a
// paper-configuration model ("SRResNet_EP" or "SwinIR"), filled with ones.
func paperGradients(name string) ([]*torch.Tensor, error) {
	cfg := mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Prompted: true}, Prompt: prompt.Explicit}
	if name == "SwinIR" {
		cfg = mioir.Config{Arch: "SwinIR", Net: nets.SwinIRPaperConfig()}
	}
	m, err := mioir.New(cfg, 1)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	var out []*torch.Tensor
	for _, p := range layers.Parameters(m.Network()) {
		x, err := torch.Full(nil, p.Shape(), 1, nil)
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func closeAll(ts []*torch.Tensor) {
	for _, x := range ts {
		x.Close()
	}
}

// BenchmarkAllReduceGradients times the gradients' all-reduce of a
// data-parallel step (bucketed, mean) between this process and a peer
// process over loopback, one intra-op thread each, for the paper's
// SRResNet_EP and SwinIR; MB/s counts the gradient's bytes once per
// all-reduce.
func BenchmarkAllReduceGradients(b *testing.B) {
	for _, name := range []string{"SRResNet_EP", "SwinIR"} {
		b.Run(name, func(b *testing.B) {
			grads, err := paperGradients(name)
			require.NoError(b, err)
			defer closeAll(grads)
			var size int64
			for _, g := range grads {
				size += 4 * g.Numel()
			}
			b.SetBytes(size)
			master := loopbackMaster(b)
			job := distJob{Rank: 1, World: 2, Master: master, Timeout: time.Minute, BenchModel: name, BenchN: b.N}
			js, err := json.Marshal(job)
			require.NoError(b, err)
			peer := exec.Command(os.Args[0], "-test.run=^TestDistWorker$")
			peer.Env = append(os.Environ(), distJobEnv+"="+string(js), "MIOIR_NUM_THREADS=1")
			var out bytes.Buffer
			peer.Stdout = &out
			require.NoError(b, peer.Start())
			defer func() { _ = peer.Wait() }()
			g, err := torch.NewGroup(context.Background(), master, 0, 2, &torch.GroupOptions{Timeout: time.Minute})
			require.NoError(b, err)
			defer g.Close()
			require.NoError(b, g.AllReduce(grads[:1], torch.Sum)) // connections up
			b.ResetTimer()
			for range b.N {
				if err := g.AllReduce(grads, torch.Mean); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(size)/1e6, "MB/grad")
		})
	}
}
