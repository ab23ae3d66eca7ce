package blocks

import (
	"fmt"
	"sync"

	"github.com/gomioir/gomioir/nets/torch"
)

// Window geometry of Swin-style attention (SwinIR, Uformer and user
// backbones). Token maps are channels-last (B, H, W, C); a window is a
// ws x ws square of tokens, and windows are numbered in raster order (row of
// windows first), batch-major, exactly as the reference window_partition.

// maskFill is the value the shifted-window attention mask puts between tokens
// that come from different image regions (the reference's -100: after the
// softmax such a pair has a weight of about e^-100).
const maskFill = -100.0

// WindowPartition splits a channels-last token map x (B, H, W, C) into
// non-overlapping ws x ws windows, returned as (B*nW, ws*ws, C) with
// nW = (H/ws)*(W/ws), windows in raster order within each image. H and W must
// be multiples of ws (otherwise the result carries the reshape error).
func WindowPartition(x *torch.Tensor, ws int64) *torch.Tensor {
	b, h, w, c := x.Size(0), x.Size(1), x.Size(2), x.Size(3)
	return x.Reshape(b, h/ws, ws, w/ws, ws, c).Permute(0, 1, 3, 2, 4, 5).Reshape(-1, ws*ws, c)
}

// WindowReverse is the inverse of WindowPartition: it puts windows
// (B*nW, ws*ws, C) (or (B*nW, ws, ws, C)) back into a (B, H, W, C) map.
func WindowReverse(windows *torch.Tensor, ws, h, w int64) *torch.Tensor {
	c := windows.Size(-1)
	return windows.Reshape(-1, h/ws, w/ws, ws, ws, c).Permute(0, 1, 3, 2, 4, 5).Reshape(-1, h, w, c)
}

// relativePositionIndex returns the (ws*ws) x (ws*ws) row-major table that
// maps a (query, key) token pair of one window to its row of the relative
// position bias table ((2ws-1)^2 rows): for tokens i = (yi, xi) and
// j = (yj, xj), (yi-yj+ws-1)*(2ws-1) + (xi-xj+ws-1). It equals the
// reference's relative_position_index buffer.
func relativePositionIndex(ws int) []int64 {
	n := ws * ws
	span := 2*ws - 1
	idx := make([]int64, n*n)
	for i := range n {
		yi, xi := i/ws, i%ws
		for j := range n {
			yj, xj := j/ws, j%ws
			idx[i*n+j] = int64((yi-yj+ws-1)*span + (xi - xj + ws - 1))
		}
	}
	return idx
}

// relativePositionIndexTensor is RelativePositionIndex as an int64 tensor of
// shape (ws*ws, ws*ws) on dev, owned by s (nil: by the caller).
func relativePositionIndexTensor(s *torch.Scope, ws int, dev torch.Device) (*torch.Tensor, error) {
	if ws < 1 {
		return nil, fmt.Errorf("blocks: window size %d < 1", ws)
	}
	n := int64(ws * ws)
	return torch.FromSliceOn(s, dev, relativePositionIndex(ws), n, n)
}

// raster is the token order of an un-partitioned map, for windowGather.
const raster = -1

// windowOrder returns, for an h x w map cyclically shifted by shift tokens
// (as torch.roll by -shift on both axes) and split into ws x ws windows, the
// raster index of each token in window order: token k of the
// WindowPartition result (windows in raster order, tokens in raster order
// within a window) is token windowOrder(...)[k] of the un-shifted map. shift
// raster gives the identity.
func windowOrder(h, w, ws, shift int) []int64 {
	idx := make([]int64, 0, h*w)
	if shift == raster {
		for i := range h * w {
			idx = append(idx, int64(i))
		}
		return idx
	}
	for wy := range h / ws {
		for wx := range w / ws {
			for py := range ws {
				y := (wy*ws + py + shift) % h
				for px := range ws {
					x := (wx*ws + px + shift) % w
					idx = append(idx, int64(y*w+x))
				}
			}
		}
	}
	return idx
}

// windowGather returns the index that reorders a token sequence from the
// window order of shift from to that of shift to (either may be raster):
// x.IndexSelect(1, idx) turns (B, h*w, C) tokens in the first order into
// the second. Reordering replaces the roll, partition, reverse and roll back
// of each block by one gather, and lets per-token operations (LayerNorm, the
// MLP, residual additions) run in window order.
func windowGather(h, w, ws, from, to int) ([]int64, error) {
	for _, sh := range []int{from, to} {
		if sh == raster {
			continue
		}
		if err := checkWindowGeometry(h, w, ws, sh); err != nil {
			return nil, err
		}
	}
	src := windowOrder(h, w, ws, from)
	inv := make([]int64, len(src))
	for k, r := range src {
		inv[r] = int64(k)
	}
	dst := windowOrder(h, w, ws, to)
	for k, r := range dst {
		dst[k] = inv[r]
	}
	return dst, nil
}

// shiftRegion is the region (0, 1 or 2) of coordinate y along an axis of
// length n after a cyclic shift of shift tokens: the reference labels the
// slices [0, n-ws), [n-ws, n-shift) and [n-shift, n).
func shiftRegion(y, n, ws, shift int) int {
	switch {
	case y < n-ws:
		return 0
	case y < n-shift:
		return 1
	default:
		return 2
	}
}

// checkWindowGeometry reports whether an h x w token map can be split into
// ws x ws windows with the given cyclic shift.
func checkWindowGeometry(h, w, ws, shift int) error {
	switch {
	case ws < 1:
		return fmt.Errorf("blocks: window size %d < 1", ws)
	case h < ws || w < ws || h%ws != 0 || w%ws != 0:
		return fmt.Errorf("blocks: a %dx%d token map is not a whole number of %dx%d windows", h, w, ws, ws)
	case shift < 0 || shift >= ws:
		return fmt.Errorf("blocks: shift %d outside [0, %d)", shift, ws)
	}
	return nil
}

// shiftedWindowMask returns the attention mask of shifted-window attention
// for an h x w token map cyclically shifted by shift tokens: a row-major
// (nW, ws*ws, ws*ws) array, nW = (h/ws)*(w/ws), holding 0 where query and key
// come from the same region of the un-shifted map and maskFill elsewhere.
// It is computed for the actual size, so it equals the reference's attn_mask
// buffer when h, w equal the reference img_size and its calculate_mask
// otherwise. h and w must be multiples of ws, and 0 <= shift < ws.
func shiftedWindowMask(h, w, ws, shift int) ([]float32, error) {
	if err := checkWindowGeometry(h, w, ws, shift); err != nil {
		return nil, err
	}
	nwh, nww, n := h/ws, w/ws, ws*ws
	mask := make([]float32, nwh*nww*n*n)
	labels := make([]int, n)
	for wy := range nwh {
		for wx := range nww {
			for i := range n {
				y, x := wy*ws+i/ws, wx*ws+i%ws
				labels[i] = 3*shiftRegion(y, h, ws, shift) + shiftRegion(x, w, ws, shift)
			}
			m := mask[(wy*nww+wx)*n*n:][:n*n]
			for i := range n {
				for j := range n {
					if labels[i] != labels[j] {
						m[i*n+j] = maskFill
					}
				}
			}
		}
	}
	return mask, nil
}

// shiftedWindowMaskTensor is shiftedWindowMask as a float32 tensor of shape
// (nW, ws*ws, ws*ws) on dev, owned by s (nil: by the caller).
func shiftedWindowMaskTensor(s *torch.Scope, h, w, ws, shift int, dev torch.Device) (*torch.Tensor, error) {
	m, err := shiftedWindowMask(h, w, ws, shift)
	if err != nil {
		return nil, err
	}
	n := int64(ws * ws)
	return torch.FromSliceOn(s, dev, m, int64((h/ws)*(w/ws)), n, n)
}

// maskKey identifies one shifted-window mask (from < -1) or one
// windowGather index.
type maskKey struct {
	h, w, ws, shift int
	from            int
	dev             torch.Device
}

// noGather marks a mask entry of the cache.
const noGather = -2

// maxCachedMasks bounds a MaskCache: a long-running server that sees many
// image sizes drops its masks rather than growing without end.
const maxCachedMasks = 64

// MaskCache keeps the shifted-window masks (and the window-order gather
// indices) of the sizes a model has seen, so that every block of a forward
// pass (and every later pass at the same size) shares one tensor. It is
// safe for concurrent use; the zero value is ready. The cached tensors
// belong to the cache: Close frees them.
type MaskCache struct {
	mu    sync.Mutex
	masks map[maskKey]*torch.Tensor
}

// Get returns the additive attention mask of shifted-window attention on
// dev for an h x w token map cyclically shifted by shift tokens (as
// torch.roll by -shift on both axes) and split into ws x ws windows: a
// float32 tensor (nW, ws*ws, ws*ws), nW = (h/ws)*(w/ws), holding 0 where
// query and key come from the same region of the un-shifted map and -100
// elsewhere, the reference's attn_mask (calculate_mask for other sizes). h
// and w must be multiples of ws, and 0 <= shift < ws. The tensor is brought
// into s with s.Use (so the caller may close it or let s free it; the cached
// tensor stays).
func (c *MaskCache) Get(s *torch.Scope, h, w, ws, shift int, dev torch.Device) (*torch.Tensor, error) {
	return c.get(s, maskKey{h, w, ws, shift, noGather, dev}, func() (*torch.Tensor, error) {
		return shiftedWindowMaskTensor(nil, h, w, ws, shift, dev)
	})
}

// gather returns windowGather(h, w, ws, from, to) as an int64 tensor on dev,
// brought into s, cached like the masks.
func (c *MaskCache) gather(s *torch.Scope, h, w, ws, from, to int, dev torch.Device) (*torch.Tensor, error) {
	return c.get(s, maskKey{h, w, ws, to, from, dev}, func() (*torch.Tensor, error) {
		return windowGatherTensor(nil, h, w, ws, from, to, dev)
	})
}

// windowGatherTensor is windowGather as an int64 tensor on dev, owned by s
// (nil: by the caller).
func windowGatherTensor(s *torch.Scope, h, w, ws, from, to int, dev torch.Device) (*torch.Tensor, error) {
	idx, err := windowGather(h, w, ws, from, to)
	if err != nil {
		return nil, err
	}
	return torch.FromSliceOn(s, dev, idx, int64(len(idx)))
}

func (c *MaskCache) get(s *torch.Scope, key maskKey, build func() (*torch.Tensor, error)) (*torch.Tensor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.masks[key]
	if !ok {
		var err error
		if t, err = build(); err != nil {
			return nil, err
		}
		if c.masks == nil {
			c.masks = make(map[maskKey]*torch.Tensor)
		}
		if len(c.masks) >= maxCachedMasks {
			c.closeLocked()
			c.masks = make(map[maskKey]*torch.Tensor)
		}
		c.masks[key] = t
	}
	return s.Use(t), nil
}

// Len returns the number of cached tensors (masks and gather indices).
func (c *MaskCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.masks)
}

// Close frees every cached mask. The cache stays usable.
func (c *MaskCache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *MaskCache) closeLocked() {
	for k, t := range c.masks {
		t.Close()
		delete(c.masks, k)
	}
}
