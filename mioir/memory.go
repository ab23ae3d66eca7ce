package mioir

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
)

// Memory budgets of Restore on the CPU (Options.MemoryBudget).
//
// A network's peak memory in a forward pass grows with the pixels of its
// input, linearly for every backbone here (convolutions, window and
// channel attention). The model measures it once, on its first budgeted
// restoration: one forward pass of a probe tile, the peak of CPU tensor
// storage counted by nets/torch (torch.PeakDuring), divided by the probe's
// pixels. Restore then takes the largest tile whose need, added to the
// whole-image buffers it keeps (input, padded input, blended output), fits
// the budget, and whose largest tensor stays within maxBlock. Counting
// tensor storage rather than resident memory keeps the measure exact
// whatever the allocators keep mapped; the process's resident size adds the
// weights, the Go images and the freed storage kept for reuse
// (torch.SetCPUCacheLimit).

// maxBlock bounds the largest tensor of a budgeted tile: nets/torch keeps
// freed blocks of at most 64 MiB for reuse (torch.SetCPUCacheLimit) and maps
// larger ones anew, so a tile whose activations exceeded that would fault
// its memory in again on every tile. 48 MiB leaves room for the
// convolutions' scratch buffers, of the same order, below that limit.
const maxBlock = 48 << 20

// minBudgetTile is the smallest tile a budget picks: below it the passes
// are too small to keep the cores busy.
const minBudgetTile = 256

// probeSide is the side of the probe tile (rounded up to the backbone's
// padding multiple): large enough that the per-pixel terms dominate.
const probeSide = 128

// Bounds of DefaultMemoryBudget.
const (
	minDefaultBudget = 256 << 20
	maxDefaultBudget = 1 << 30
)

// DefaultMemoryBudget is Options.MemoryBudget's default: a quarter of the
// memory the system reports available (MemAvailable), at least 256 MiB and
// at most 1 GiB. Larger tiles do not run faster (a tile of 512 x 512 pixels
// keeps every core busy), so the cap costs no speed and leaves the rest of the
// machine to other work.
func DefaultMemoryBudget() int64 {
	avail := memAvailable()
	if avail <= 0 {
		return maxDefaultBudget
	}
	return min(maxDefaultBudget, max(minDefaultBudget, avail/4))
}

// memAvailable reads MemAvailable from /proc/meminfo (0 when unknown).
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// measureNeed runs the probe forward pass once per model and records the
// peak bytes per input pixel and the output scale.
func (m *Model) measureNeed(s *torch.Scope, hook nets.Hook) (perPix float64, scale int64, err error) {
	m.need.once.Do(func() {
		side := (probeSide + m.pad.Multiple - 1) / m.pad.Multiple * m.pad.Multiple
		c := s.Child(torch.Inference)
		defer c.Close()
		x, err := torch.Zeros(c, []int64{1, 3, side, side}, &torch.Options{Device: m.dev})
		if err != nil {
			m.need.err = err
			return
		}
		var oh int64
		use, err := torch.MemoryDuring(func() error {
			cc := c.Child(torch.Inference)
			defer cc.Close()
			out := m.net.Forward(x, hook)
			if err := cc.Err(); err != nil {
				return err
			}
			if err := out.Err(); err != nil {
				return err
			}
			oh = out.Size(2)
			return nil
		})
		if err != nil {
			m.need.err = err
			return
		}
		m.need.perPix = float64(use.Peak) / float64(side*side)
		m.need.largest = float64(use.Largest) / float64(side*side)
		m.need.scale = max(1, oh/side)
	})
	return m.need.perPix, m.need.scale, m.need.err
}

// budgetTile returns the tile side for xp within budget (0: the whole image
// fits), at least minTile.
func (m *Model) budgetTile(s *torch.Scope, xp *torch.Tensor, hook nets.Hook, budget, minTile int64) (int64, error) {
	hp, wp := xp.Size(2), xp.Size(3)
	if hp*wp <= probeSide*probeSide {
		return 0, nil // no larger than the probe: measuring would cost a whole pass
	}
	perPix, scale, err := m.measureNeed(s, hook)
	if err != nil {
		return 0, err
	}
	// Whole-image buffers: the input and its padded copy (3 planes each),
	// the blended output and its weights (3 + 1 planes at the output
	// scale) and the cropped result (3 planes).
	fixed := 4 * hp * wp * (6 + 7*scale*scale)
	room := float64(budget - fixed)
	if room >= perPix*float64(hp*wp) && m.need.largest*float64(hp*wp) <= maxBlock {
		return 0, nil
	}
	side := int64(0)
	if room > 0 && perPix > 0 {
		side = int64(math.Sqrt(room / perPix))
	}
	if m.need.largest > 0 {
		side = min(side, int64(math.Sqrt(maxBlock/m.need.largest)))
	}
	side = side / m.pad.Multiple * m.pad.Multiple
	// A budget the whole-image buffers nearly fill still gets tiles that
	// keep the cores busy: exceeding it beats thousands of tiny passes.
	return max(side, minTile, min(minBudgetTile, hp, wp)/m.pad.Multiple*m.pad.Multiple), nil
}
