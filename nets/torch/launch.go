package torch

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
)

// The environment variables torchrun sets for every worker it starts, read
// by LaunchFromEnv and set by Launch.Env.
const (
	EnvRank       = "RANK"
	EnvWorldSize  = "WORLD_SIZE"
	EnvLocalRank  = "LOCAL_RANK"
	EnvLocalWorld = "LOCAL_WORLD_SIZE"
	EnvMasterAddr = "MASTER_ADDR"
	EnvMasterPort = "MASTER_PORT"
)

// DefaultMasterPort is torch.distributed's default rendezvous port.
const DefaultMasterPort = 29500

// Launch is a process's place in a multi-process run, in the terms of
// torchrun (torch.distributed's "env://" initialisation): its Rank among
// World processes, its LocalRank among the LocalWorld processes of its
// machine, and the master (rank 0's machine) whose port serves the
// rendezvous. Programs started by torchrun, by a cluster scheduler or by hand
// with these variables set read them with LaunchFromEnv; a program that
// starts its own local workers gives each the variables of Env.
type Launch struct {
	Rank, World           int
	LocalRank, LocalWorld int
	MasterAddr            string
	MasterPort            int
}

// LaunchFromEnv reads the torchrun variables. ok is false when WORLD_SIZE is
// unset (a plain single process). RANK and WORLD_SIZE are required with it;
// LOCAL_RANK defaults to RANK, LOCAL_WORLD_SIZE to WORLD_SIZE, MASTER_ADDR to
// 127.0.0.1 and MASTER_PORT to DefaultMasterPort.
func LaunchFromEnv() (l Launch, ok bool, err error) {
	if os.Getenv(EnvWorldSize) == "" {
		return Launch{}, false, nil
	}
	num := func(name string, def int) (int, error) {
		v := os.Getenv(name)
		if v == "" {
			if def >= 0 {
				return def, nil
			}
			return 0, fmt.Errorf("torch: %s is set but %s is not", EnvWorldSize, name)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("torch: %s=%q is not a non-negative integer", name, v)
		}
		return n, nil
	}
	if l.World, err = num(EnvWorldSize, -1); err != nil {
		return Launch{}, false, err
	}
	if l.Rank, err = num(EnvRank, -1); err != nil {
		return Launch{}, false, err
	}
	if l.LocalRank, err = num(EnvLocalRank, l.Rank); err != nil {
		return Launch{}, false, err
	}
	if l.LocalWorld, err = num(EnvLocalWorld, l.World); err != nil {
		return Launch{}, false, err
	}
	if l.MasterPort, err = num(EnvMasterPort, DefaultMasterPort); err != nil {
		return Launch{}, false, err
	}
	l.MasterAddr = os.Getenv(EnvMasterAddr)
	if l.MasterAddr == "" {
		l.MasterAddr = "127.0.0.1"
	}
	return l, true, l.Validate()
}

// Validate reports an inconsistent Launch.
func (l Launch) Validate() error {
	switch {
	case l.World < 1 || l.Rank < 0 || l.Rank >= l.World:
		return fmt.Errorf("torch: rank %d outside world size %d", l.Rank, l.World)
	case l.LocalWorld < 1 || l.LocalWorld > l.World || l.LocalRank < 0 || l.LocalRank >= l.LocalWorld:
		return fmt.Errorf("torch: local rank %d outside local world size %d (world %d)", l.LocalRank, l.LocalWorld, l.World)
	case l.MasterPort < 1 || l.MasterPort > 65535:
		return fmt.Errorf("torch: master port %d out of range", l.MasterPort)
	case l.MasterAddr == "":
		return fmt.Errorf("torch: no master address")
	}
	return nil
}

// Master is the rendezvous address, "host:port".
func (l Launch) Master() string {
	return net.JoinHostPort(l.MasterAddr, strconv.Itoa(l.MasterPort))
}

// Env returns the variables that describe l, for a worker's environment.
func (l Launch) Env() []string {
	return []string{
		EnvRank + "=" + strconv.Itoa(l.Rank), EnvWorldSize + "=" + strconv.Itoa(l.World),
		EnvLocalRank + "=" + strconv.Itoa(l.LocalRank), EnvLocalWorld + "=" + strconv.Itoa(l.LocalWorld),
		EnvMasterAddr + "=" + l.MasterAddr, EnvMasterPort + "=" + strconv.Itoa(l.MasterPort),
	}
}

// Threads is the share of cores intra-op threads each of the machine's
// LocalWorld workers gets: cores/LocalWorld, at least 1.
func (l Launch) Threads(cores int) int { return max(1, cores/max(1, l.LocalWorld)) }

// Join joins the group l describes (NewGroup at l.Master()).
func (l Launch) Join(ctx context.Context, o *GroupOptions) (*Group, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return NewGroup(ctx, l.Master(), l.Rank, l.World, o)
}
