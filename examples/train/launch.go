package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gomioir/gomioir/nets/torch"
)

// spawner makes the command of one local worker with the given arguments;
// main re-executes its own binary, the tests their test binary.
type spawner func(args []string) *exec.Cmd

// selfSpawner starts this program's executable again.
func selfSpawner(args []string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, args...)
}

// launchFlags are the data-parallel flags; each overrides its torchrun
// variable.
var launchFlagNames = []string{"nproc", "nnodes", "node-rank", "rank", "world-size", "local-rank",
	"master-addr", "master-port", "dist-timeout"}

// workerArgs is args without -nproc (the workers' command line).
func workerArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		name, _, hasValue := strings.Cut(a, "=")
		if args[i] != a && name == "nproc" {
			if !hasValue {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// launchOf returns this process's place in a data-parallel run from the
// flags and the torchrun variables (flags win); ok is false for a plain
// single-process run.
func launchOf(f *flags) (torch.Launch, bool, error) {
	l, ok, err := torch.LaunchFromEnv()
	if err != nil {
		return l, false, err
	}
	if f.set["world-size"] {
		ok = true
		l.World = f.worldSize
		if !f.set["local-rank"] && os.Getenv(torch.EnvLocalRank) == "" {
			l.LocalRank, l.LocalWorld = 0, 1 // one worker per machine
		}
	}
	if !ok {
		if f.set["rank"] || f.set["local-rank"] {
			return l, false, errors.New("-rank needs -world-size (or WORLD_SIZE)")
		}
		return l, false, nil
	}
	if f.set["rank"] {
		l.Rank = f.rank
	}
	if f.set["local-rank"] {
		l.LocalRank = f.localRank
	}
	if l.LocalWorld == 0 {
		l.LocalWorld = 1
	}
	if f.set["master-addr"] {
		l.MasterAddr = f.masterAddr
	}
	if l.MasterAddr == "" {
		l.MasterAddr = "127.0.0.1"
	}
	if f.set["master-port"] {
		l.MasterPort = f.masterPort
	}
	if l.MasterPort == 0 {
		l.MasterPort = torch.DefaultMasterPort
	}
	return l, true, l.Validate()
}

// launchLocal starts -nproc workers on this machine (ranks node-rank*nproc
// .. +nproc-1 of nnodes*nproc), each with the torchrun variables and its
// share of the cores, prefixes their output lines with their rank, passes
// SIGINT/SIGTERM on as SIGINT (the ranks agree on the iteration to stop
// after and rank 0 checkpoints), and returns when all have exited. A worker
// that fails takes the others down within the group's timeout (a dead peer
// fails their next all-reduce); any still running after that is killed.
func launchLocal(ctx context.Context, f *flags, args []string, spawn spawner, stderr io.Writer) error {
	if os.Getenv(torch.EnvRank) != "" {
		return fmt.Errorf("-nproc %d in a worker (RANK is set): a launcher starts workers, workers do not", f.nproc)
	}
	if f.nnodes < 1 || f.nodeRank < 0 || f.nodeRank >= f.nnodes {
		return fmt.Errorf("-node-rank %d outside -nnodes %d", f.nodeRank, f.nnodes)
	}
	addr, port := f.masterAddr, f.masterPort
	if !f.set["master-addr"] {
		addr = cmp.Or(os.Getenv(torch.EnvMasterAddr), "127.0.0.1")
	}
	if !f.set["master-port"] {
		if p, err := strconv.Atoi(os.Getenv(torch.EnvMasterPort)); err == nil {
			port = p
		} else if f.nnodes == 1 {
			// One machine: any free port, so that two runs do not collide.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			port = l.Addr().(*net.TCPAddr).Port
			l.Close()
		} else {
			port = torch.DefaultMasterPort
		}
	}
	threads := os.Getenv(torch.NumThreadsEnv)
	if threads == "" {
		threads = strconv.Itoa(max(1, runtime.NumCPU()/f.nproc))
	}
	fmt.Fprintf(stderr, "train: starting %d workers (ranks %d-%d of %d), %s threads each, rendezvous at %s:%d\n",
		f.nproc, f.nodeRank*f.nproc, (f.nodeRank+1)*f.nproc-1, f.nnodes*f.nproc, threads, addr, port)
	var out sync.Mutex // one line at a time
	type result struct {
		rank int
		err  error
	}
	done := make(chan result, f.nproc)
	var cmds []*exec.Cmd
	for r := range f.nproc {
		l := torch.Launch{Rank: f.nodeRank*f.nproc + r, World: f.nnodes * f.nproc, LocalRank: r, LocalWorld: f.nproc,
			MasterAddr: addr, MasterPort: port}
		cmd := spawn(workerArgs(args))
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(append(cmd.Env, l.Env()...), torch.NumThreadsEnv+"="+threads)
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			for _, c := range cmds {
				_ = c.Process.Kill()
			}
			return fmt.Errorf("start rank %d: %w", l.Rank, err)
		}
		cmds = append(cmds, cmd)
		go func() {
			sc := bufio.NewScanner(pipe)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				out.Lock()
				fmt.Fprintf(stderr, "[rank %d] %s\n", l.Rank, sc.Text())
				out.Unlock()
			}
			done <- result{l.Rank, cmd.Wait()}
		}()
	}
	var errs []error
	interrupted := false
	var killAt <-chan time.Time
	for left := f.nproc; left > 0; {
		select {
		case r := <-done:
			left--
			if r.err != nil {
				var ee *exec.ExitError
				if errors.As(r.err, &ee) && ee.ExitCode() == exitInterrupted {
					interrupted = true
				} else {
					errs = append(errs, fmt.Errorf("rank %d: %w", r.rank, r.err))
				}
				if killAt == nil {
					killAt = time.After(f.distTimeout + 10*time.Second)
				}
			}
		case <-ctx.Done():
			for _, c := range cmds {
				_ = c.Process.Signal(syscall.SIGINT)
			}
			ctx = context.Background() // once
		case <-killAt:
			for _, c := range cmds {
				_ = c.Process.Kill()
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if interrupted {
		return context.Canceled
	}
	return nil
}
