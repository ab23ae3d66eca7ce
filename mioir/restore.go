package mioir

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// DefaultOverlap is the tile overlap, in input pixels, when Options.Overlap
// is 0.
const DefaultOverlap = 32

// DefaultMaxPixels bounds the input size when Options.MaxPixels is 0
// (256 megapixels: larger inputs are refused rather than attempted).
const DefaultMaxPixels = 1 << 28

// Options control Restore. A nil *Options means the defaults: the task from
// the classifier when the model is an EP model with one, the whole image in
// one pass (tiles only after an out-of-memory error).
type Options struct {
	// Task is the degradation of the input, which selects an EP model's
	// explicit prompt. Plain and AP models ignore it. Zero means: ask the
	// classifier (an EP model without classifier then fails).
	Task degrade.Task
	// Auto runs the classifier even when Task is set; its choice wins for
	// EP models. Info reports the probabilities.
	Auto bool
	// Guard checks the classifier's choice before an EP model uses it; a
	// choice that fails gives way to the task the guard's measurements
	// point to, else to Task if set, else leaves the image unchanged
	// (Info.Fallback). nil means DefaultGuard(); &Guard{} trusts every
	// choice.
	Guard *Guard
	// Tile is the tile side in input pixels (rounded down to the backbone's
	// padding multiple). 0 lets MemoryBudget choose (on a GPU: the whole
	// image at once).
	Tile int
	// Overlap is the overlap between neighbouring tiles in input pixels
	// (0: DefaultOverlap; negative: none). Overlapping outputs are blended
	// with linear ramps, normalised by the summed weights.
	Overlap int
	// MinTile is the smallest tile the out-of-memory backoff tries
	// (0: 64, at least the padding multiple).
	MinTile int
	// MaxPixels refuses larger inputs (0: DefaultMaxPixels).
	MaxPixels int
	// MemoryBudget bounds, in bytes, the CPU memory of a restoration on the
	// CPU when Tile is 0: Restore picks the largest tile whose need fits,
	// from the network's measured peak memory per pixel, or the whole image
	// when it fits (0: DefaultMemoryBudget(); negative: no bound, the whole
	// image in one pass). GPU restorations are not budgeted; the
	// out-of-memory backoff bounds them.
	MemoryBudget int64
	// Strength is the share of the network's change kept: the output is
	// input + Strength*(network output - input), for networks whose output
	// has the input's size. 0 means the model's own StrengthModel for
	// the task when it has one (the bundled model has one for noise), else
	// 1, the network's output as it is; values in (0, 1] are used as given
	// (1 turns the model's prediction off). Info.Strength reports it.
	Strength float64
	// Progress, if set, is called on the goroutine that called Restore:
	// with (0, total) before the first tile of a pass, then with
	// (done, total) after each tile, total being the number of tiles of the
	// pass (1 when the whole image goes in one pass). When an out-of-memory
	// error makes Restore start again with smaller tiles (Info.Retries), the
	// new pass begins with (0, newTotal): the tiles of the failed pass are
	// not counted, done never exceeds total, and the last call of a
	// successful restoration is (Info.Tiles, Info.Tiles). Cancelling the
	// context from Progress stops Restore before the next tile.
	Progress func(done, total int)
}

// Info describes a restoration.
type Info struct {
	// Task is the task whose explicit prompt was used (EP models), or the
	// classifier's choice; zero when none applies.
	Task degrade.Task
	// Auto is true when the classifier chose Task.
	Auto bool
	// Probs are the classifier's softmax outputs, indexed by prompt index
	// (degrade.Task.PromptIndex); nil when the classifier did not run.
	Probs []float32
	// Fallback is set when Options.Guard did not take the classifier's
	// choice: Task is then Fallback.Use when the guard's measurements chose
	// one, else Options.Task, else zero with the input returned unchanged.
	Fallback *Fallback
	// Strength is the share of the network's change kept (Options.Strength):
	// 1 unless asked or predicted.
	Strength float64
	// Tile is the tile side used (0: the whole image in one pass), Tiles the
	// number of tiles, Retries how many times an out-of-memory error made
	// Restore start again with smaller tiles.
	Tile, Tiles, Retries int
}

// Restore restores an 8-bit image: it converts img to a float tensor as
// BasicSR reads images, selects the prompt (see Options), pads as the
// reference test procedure does for the backbone, runs the network (in
// tiles if asked or after an out-of-memory error), crops and converts back
// with BasicSR's rounding. It may be called from several goroutines at once.
//
// Restore checks ctx before it starts, after the classifier and between
// tiles; once ctx is done it frees what it holds and returns an error
// wrapping ctx.Err() (with the Info known so far). A tile, or an untiled
// image, runs to its end: Options.Tile bounds the time to stop. The result
// does not depend on ctx or Progress.
func (m *Model) Restore(ctx context.Context, img image.Image, o *Options) (*image.NRGBA, *Info, error) {
	if img == nil {
		return nil, nil, errors.New("mioir: restore: nil image")
	}
	b := img.Bounds()
	if err := checkSize(b.Dx(), b.Dy(), o); err != nil {
		return nil, nil, err
	}
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := torch.FromImage(s, img, torch.CPU)
	if err != nil {
		return nil, nil, fmt.Errorf("mioir: restore: %w", err)
	}
	chw, w, h, info, err := m.restore(ctx, x, o)
	if err != nil {
		return nil, info, err
	}
	return imgconv.NRGBA(chw, w, h), info, nil
}

// RestoreTensor is Restore on a float tensor (1, 3, H, W) with values in
// [0, 1], on any device. The result is a new float32 CPU tensor (1, 3, H',
// W'), unclamped, owned by the caller.
func (m *Model) RestoreTensor(ctx context.Context, x *torch.Tensor, o *Options) (*torch.Tensor, *Info, error) {
	if err := x.Err(); err != nil {
		return nil, nil, fmt.Errorf("mioir: restore: %w", err)
	}
	chw, w, h, info, err := m.restore(ctx, x, o)
	if err != nil {
		return nil, info, err
	}
	t, err := torch.FromSlice(nil, chw, 1, 3, int64(h), int64(w))
	return t, info, err
}

func checkSize(w, h int, o *Options) error {
	maxPix := DefaultMaxPixels
	if o != nil && o.MaxPixels > 0 {
		maxPix = o.MaxPixels
	}
	if w < 1 || h < 1 {
		return fmt.Errorf("mioir: restore: empty image (%dx%d)", w, h)
	}
	if int64(w)*int64(h) > int64(maxPix) {
		return fmt.Errorf("mioir: restore: image %dx%d has more than %d pixels (Options.MaxPixels)", w, h, maxPix)
	}
	return nil
}

// restore runs the whole procedure and returns the output as CHW float32.
func (m *Model) restore(ctx context.Context, x *torch.Tensor, o *Options) (chw []float32, w, h int, info *Info, err error) {
	if o == nil {
		o = &Options{}
	}
	info = &Info{Strength: 1}
	if !(o.Strength >= 0 && o.Strength <= 1) {
		return nil, 0, 0, info, fmt.Errorf("mioir: restore: Options.Strength %v, want 0 (the model's) or a share in (0, 1]", o.Strength)
	}
	sh := x.Shape()
	if len(sh) != 4 || sh[0] != 1 || sh[1] != 3 {
		return nil, 0, 0, info, fmt.Errorf("mioir: restore: input of shape %v, want (1, 3, H, W)", sh)
	}
	if err := checkSize(int(sh[3]), int(sh[2]), o); err != nil {
		return nil, 0, 0, info, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, info, fmt.Errorf("mioir: restore: %w", err)
	}
	// One OS thread for the whole restoration: one OpenMP team, and one
	// malloc arena for the allocations below nets/torch's cached blocks; a
	// goroutine that moves between threads can leave a high-water mark in
	// each thread's arena.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.net == nil {
		return nil, 0, 0, info, ErrClosedModel
	}
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	xs := s.Use(x).To(torch.Float32, m.dev)
	if err := checkFinite(xs); err != nil {
		return nil, 0, 0, info, err
	}

	// Task: explicit, or the classifier on the full unpadded image.
	task := o.Task
	if task != 0 && !task.Valid() {
		return nil, 0, 0, info, fmt.Errorf("mioir: restore: invalid task %d", int(task))
	}
	ep := m.cfg.Prompt == prompt.Explicit
	if o.Auto || (ep && task == 0) {
		if m.cls == nil {
			if ep {
				return nil, 0, 0, info, fmt.Errorf("mioir: restore: %s needs a task (Options.Task) or a classifier", m.cfg.Name())
			}
			return nil, 0, 0, info, fmt.Errorf("mioir: restore: automatic task selection asked, but %s has no classifier", m.cfg.Name())
		}
		preds, err := m.cls.Classify(xs)
		if err != nil {
			return nil, 0, 0, info, fmt.Errorf("mioir: restore: classifier: %w", err)
		}
		info.Probs = append([]float32(nil), preds[0].Probs[:]...)
		task, info.Auto = preds[0].Task, true
		if ep {
			if info.Fallback, err = m.guard(xs, preds[0], o.Guard); err != nil {
				return nil, 0, 0, info, err
			}
			if f := info.Fallback; f != nil && f.Use != 0 {
				task = f.Use
			} else if f != nil && o.Task != 0 {
				task = o.Task
			} else if f != nil {
				chw, err := torch.ToSlice[float32](xs.ToDevice(torch.CPU).Contiguous())
				if err != nil {
					return nil, 0, 0, info, fmt.Errorf("mioir: restore: %w", err)
				}
				return chw, int(sh[3]), int(sh[2]), info, nil
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, 0, 0, info, fmt.Errorf("mioir: restore: after the classifier: %w", err)
		}
	}
	if ep || info.Auto {
		info.Task = task
	}

	// What decoding, the classifier's strips and the guard's planes freed
	// is given back before the tiles, or the allocators would keep it
	// mapped under the tiles' own high-water mark.
	torch.ReleaseFreeMemory()

	// Padding of the reference test procedure.
	H, W := sh[2], sh[3]
	xp, top, left := padInput(xs, m.pad)
	hp, wp := xp.Size(2), xp.Size(3)

	// The prompt vectors come from the whole (padded) image or the task's
	// map, once, so that every tile is modulated as the whole image is.
	var hook nets.Hook
	switch m.cfg.Prompt {
	case prompt.Explicit:
		p, err := m.taskPrompt(s, task)
		if err != nil {
			return nil, 0, 0, info, err
		}
		hook = m.mod.FixedHook(p)
	case prompt.Adaptive:
		hook = m.mod.FixedHook(xp)
	}
	if err := s.Err(); err != nil {
		return nil, 0, 0, info, fmt.Errorf("mioir: restore: %w", err)
	}

	tile := int64(o.Tile)
	if tile > 0 {
		tile = max(m.pad.Multiple, tile/m.pad.Multiple*m.pad.Multiple)
	}
	overlap := int64(o.Overlap)
	if overlap == 0 {
		overlap = DefaultOverlap
	}
	overlap = max(overlap, 0)
	minTile := int64(o.MinTile)
	if minTile <= 0 {
		minTile = 64
	}
	minTile = max(minTile, m.pad.Multiple)
	if tile == 0 && m.dev == torch.CPU && o.MemoryBudget >= 0 {
		budget := o.MemoryBudget
		if budget == 0 {
			budget = DefaultMemoryBudget()
		}
		if tile, err = m.budgetTile(s, xp, hook, budget, minTile); err != nil {
			return nil, 0, 0, info, fmt.Errorf("mioir: restore: %w", err)
		}
	}
	for {
		out, scale, tiles, err := m.runTiles(ctx, s, xp, hook, tile, overlap, o.Progress)
		if err == nil {
			info.Tile, info.Tiles = int(tile), tiles
			chw, w, h = crop(out, hp*scale, wp*scale, top*scale, left*scale, H*scale, W*scale)
			for _, v := range chw {
				if math.IsNaN(float64(v)) {
					return nil, 0, 0, info, errors.New("mioir: restore: the network produced NaN")
				}
			}
			if err := m.applyStrength(xs, chw, w, h, task, o.Strength, info); err != nil {
				return nil, 0, 0, info, err
			}
			return chw, w, h, info, nil
		}
		if !errors.Is(err, torch.ErrOutOfMemory) {
			return nil, 0, 0, info, fmt.Errorf("mioir: restore: %w", err)
		}
		cur := tile
		if cur == 0 {
			cur = max(hp, wp)
		}
		next := cur / 2 / m.pad.Multiple * m.pad.Multiple
		if next < minTile {
			return nil, 0, 0, info, fmt.Errorf("mioir: restore: out of memory with %d-pixel tiles (smallest allowed %d): %w", cur, minTile, err)
		}
		tile = next
		info.Retries++
	}
}

// checkFinite refuses inputs with NaN or infinite values. The largest and
// smallest values are finite only when every value is (the reductions
// propagate NaN): two passes without temporaries, where counting the bad
// values takes three full-size ones and 70 times as long; it counts only
// to say how many.
func checkFinite(x *torch.Tensor) error {
	hi, err := x.Amax(false).ToDType(torch.Float64).Item()
	if err != nil {
		return fmt.Errorf("mioir: restore: %w", err)
	}
	lo, err := x.Amin(false).ToDType(torch.Float64).Item()
	if err != nil {
		return fmt.Errorf("mioir: restore: %w", err)
	}
	if hi <= math.MaxFloat32 && lo >= -math.MaxFloat32 {
		return nil
	}
	bad := x.Abs().LeScalar(math.MaxFloat32).LogicalNot().Sum(false).ToDType(torch.Float64)
	n, err := bad.Item()
	if err != nil {
		return fmt.Errorf("mioir: restore: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("mioir: restore: the input has %d NaN or infinite values", int64(n))
	}
	return nil
}

// padInput applies the padding rule: reflect at the bottom and right to a
// multiple, then (Square) reflect symmetrically to a square. It returns the
// padded tensor and the offset of the original's top-left corner.
func padInput(x *torch.Tensor, r nets.PadRule) (xp *torch.Tensor, top, left int64) {
	h, w := x.Size(2), x.Size(3)
	mult := max(r.Multiple, 1)
	ph, pw := (mult-h%mult)%mult, (mult-w%mult)%mult
	xp = reflectPad(x, 0, pw, 0, ph)
	if r.Square {
		h, w = h+ph, w+pw
		switch {
		case w > h:
			d := (w - h) / 2
			xp, top = reflectPad(xp, 0, 0, d, w-h-d), d
		case h > w:
			d := (h - w) / 2
			xp, left = reflectPad(xp, d, h-w-d, 0, 0), d
		}
	}
	return xp, top, left
}

// reflectPad reflect-pads x by (left, right, top, bottom). PyTorch's reflect
// padding needs each pad smaller than the side; larger pads (inputs smaller
// than the padding multiple) are applied in steps, and a side of one pixel
// is replicated.
func reflectPad(x *torch.Tensor, l, r, t, b int64) *torch.Tensor {
	for l > 0 || r > 0 || t > 0 || b > 0 {
		h, w := x.Size(2), x.Size(3)
		if h < 0 || w < 0 {
			return x
		}
		if h == 1 || w == 1 {
			mode := torch.PadReplicate
			x = x.Pad([]int64{l, r, t, b}, mode, 0)
			return x
		}
		sl, sr := min(l, w-1), min(r, w-1)
		st, sb := min(t, h-1), min(b, h-1)
		x = x.Pad([]int64{sl, sr, st, sb}, torch.PadReflect, 0)
		l, r, t, b = l-sl, r-sr, t-st, b-sb
	}
	return x
}

// starts returns the tile origins along a side of n pixels for tiles of
// length l overlapping by at least ov: stepped by a multiple of mult (so
// that window-based backbones see the same window grid in every tile), the
// last one aligned with the end.
func starts(n, l, ov, mult int64) []int64 {
	if l >= n {
		return []int64{0}
	}
	step := max((l-ov)/mult*mult, mult)
	var s []int64
	for p := int64(0); p+l < n; p += step {
		s = append(s, p)
	}
	return append(s, n-l)
}

// minWeight keeps every blending weight positive, so that the normalisation
// never divides by zero.
const minWeight = 1e-6

// ramp returns the blending weights along one side of a tile of length l at
// origin p in a side of n pixels. At an edge that faces another tile (not
// at the image border) the weight is (almost) 0 over the outer quarter of
// the overlap r, where the tile's own border effects are largest, rises
// linearly over its middle half and is 1 beyond; elsewhere it is 1.
// Neighbouring tiles overlap by at least r, so every pixel gets a weight
// near 1 from some tile.
func ramp(p, l, n, r int64) []float32 {
	w := make([]float32, l)
	margin := r / 4
	width := float32(r - 2*margin + 1)
	edge := func(d int64) float32 { // d: distance from the tile's edge pixel
		return min(1, max(minWeight, float32(d-margin+1)/width))
	}
	for i := range w {
		v := float32(1)
		if p > 0 {
			v = min(v, edge(int64(i)))
		}
		if p+l < n {
			v = min(v, edge(l-1-int64(i)))
		}
		w[i] = v
	}
	return w
}

// runTiles runs the network over xp (1, 3, hp, wp) in tiles of side tile
// (0: one pass) overlapping by overlap, and returns the blended output as
// CHW float32 at the output scale. It checks ctx before each tile and
// reports each finished tile to progress (if set), after (0, total).
func (m *Model) runTiles(ctx context.Context, s *torch.Scope, xp *torch.Tensor, hook nets.Hook, tile, overlap int64,
	progress func(done, total int)) (out []float32, scale int64, tiles int, err error) {
	hp, wp := xp.Size(2), xp.Size(3)
	th, tw := hp, wp
	if tile > 0 {
		th, tw = min(tile, hp), min(tile, wp)
		if m.pad.Square {
			th = min(th, tw)
			tw = th
		}
	}
	ov := min(overlap, min(th, tw)/4)
	ys, xs := starts(hp, th, ov, m.pad.Multiple), starts(wp, tw, ov, m.pad.Multiple)
	total := len(ys) * len(xs)
	if progress == nil {
		progress = func(int, int) {}
	}
	progress(0, total)
	var acc, wsum []float32
	for _, y0 := range ys {
		for _, x0 := range xs {
			if err := ctx.Err(); err != nil {
				return nil, 0, 0, fmt.Errorf("stopped after %d of %d tiles: %w", tiles, total, err)
			}
			v, oh, ow, err := m.runTile(s, xp, hook, y0, x0, th, tw)
			if err != nil {
				return nil, 0, 0, err
			}
			tiles++
			progress(tiles, total)
			if len(ys) == 1 && len(xs) == 1 {
				if oh%th != 0 || oh/th != ow/tw || ow%tw != 0 {
					return nil, 0, 0, fmt.Errorf("output %dx%d is not a multiple of the input %dx%d", ow, oh, tw, th)
				}
				return v, oh / th, 1, nil
			}
			if acc == nil {
				if oh%th != 0 || ow%tw != 0 || oh/th != ow/tw {
					return nil, 0, 0, fmt.Errorf("tile output %dx%d is not a multiple of the tile %dx%d", ow, oh, tw, th)
				}
				scale = oh / th
				acc = make([]float32, 3*hp*scale*wp*scale)
				wsum = make([]float32, hp*scale*wp*scale)
			}
			H, W := hp*scale, wp*scale
			wy := ramp(y0*scale, oh, H, ov*scale)
			wx := ramp(x0*scale, ow, W, ov*scale)
			for c := int64(0); c < 3; c++ {
				for i := int64(0); i < oh; i++ {
					row := acc[(c*H+y0*scale+i)*W+x0*scale:]
					src := v[(c*oh+i)*ow:]
					for j := int64(0); j < ow; j++ {
						row[j] += wy[i] * wx[j] * src[j]
					}
				}
			}
			for i := int64(0); i < oh; i++ {
				row := wsum[(y0*scale+i)*W+x0*scale:]
				for j := int64(0); j < ow; j++ {
					row[j] += wy[i] * wx[j]
				}
			}
		}
	}
	plane := len(wsum)
	for c := 0; c < 3; c++ {
		a := acc[c*plane : (c+1)*plane]
		for i := range a {
			a[i] /= wsum[i]
		}
	}
	return acc, scale, tiles, nil
}

// runTile restores one tile in a child scope that frees every intermediate,
// and copies the output to Go memory.
func (m *Model) runTile(s *torch.Scope, xp *torch.Tensor, hook nets.Hook, y0, x0, th, tw int64) (v []float32, oh, ow int64, err error) {
	if m.failTile != nil {
		if err := m.failTile(th, tw); err != nil {
			return nil, 0, 0, err
		}
	}
	c := s.Child(torch.Inference)
	defer c.Close()
	t := c.Use(xp)
	if th != xp.Size(2) || tw != xp.Size(3) {
		t = t.Narrow(2, y0, th).Narrow(3, x0, tw)
	}
	out := m.net.Forward(t, hook)
	if err := out.Err(); err != nil {
		return nil, 0, 0, err
	}
	if err := c.Err(); err != nil {
		return nil, 0, 0, err
	}
	if out.Size(1) != 3 {
		return nil, 0, 0, fmt.Errorf("the network returned %d channels", out.Size(1))
	}
	oh, ow = out.Size(2), out.Size(3)
	v, err = torch.ToSlice[float32](out.To(torch.Float32, torch.CPU).Contiguous())
	return v, oh, ow, err
}

// crop cuts the (hp, wp) CHW output at (top, left) to h x w.
func crop(v []float32, hp, wp, top, left, h, w int64) ([]float32, int, int) {
	if hp == h && wp == w {
		return v, int(w), int(h)
	}
	out := make([]float32, 3*h*w)
	for c := int64(0); c < 3; c++ {
		for i := int64(0); i < h; i++ {
			copy(out[(c*h+i)*w:(c*h+i+1)*w], v[(c*hp+top+i)*wp+left:])
		}
	}
	return out, int(w), int(h)
}
