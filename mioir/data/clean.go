package data

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"

	"github.com/gomioir/gomioir/degrade"
)

// CleanOptions configure Clean. The zero value (or nil) serves all seven
// tasks with parameters drawn per sample.
type CleanOptions struct {
	// Tasks restricts the source to these tasks (nil: all seven).
	Tasks []degrade.Task
	// FixedParams draws the degradation parameters once per (image, task),
	// from the image name, as the reference's precomputed data set has one
	// LQ image per task. The default draws them per sample (from the key
	// the Loader passes), so every visit of an image sees a new degradation.
	FixedParams bool
	// CacheBytes bounds the cache of decoded images (0: DefaultCacheBytes,
	// negative: no cache).
	CacheBytes int64
	// OnSkip receives the files skipped because their header cannot be read.
	OnSkip SkipFunc
	// Depth, when set, gives the haze depth map of an image (by file name)
	// instead of degrade.PseudoDepth: quarter resolution (w/4 x h/4) or full
	// resolution (w x h), w x h being the image's size cut to multiples of
	// 4, as degrade.AddHaze accepts. It is called once per decoded image.
	Depth func(name string, w, h int) (*degrade.DepthMap, error)
	// Exposure, when set, darkens some clean patches before they are
	// degraded, so that a model also sees scenes darker than the photos
	// (night scenes, dim interiors) as ground truth. The reference has no
	// such step; it is off by default.
	Exposure *Exposure
}

// Exposure darkens a share of the samples: with probability P the clean
// window and its GT patch become x^u, 8-bit quantised, u uniform in
// [1, MaxGamma], both drawn from the sample's key (reproducible).
type Exposure struct {
	P        float64 // share of darkened samples, in (0, 1]
	MaxGamma float64 // largest exponent, above 1
	// Tasks, when not empty, limits the darkening to the samples of these
	// tasks; e.g. only low-light samples, so that a model learns that a dark
	// input may come from a dark scene without the other tasks' patches
	// changing.
	Tasks []degrade.Task
}

// Validate reports settings outside P in (0, 1] and MaxGamma finite above 1,
// and invalid tasks.
func (e *Exposure) Validate() error {
	if !(e.P > 0 && e.P <= 1) || !(e.MaxGamma > 1) || math.IsInf(e.MaxGamma, 1) {
		return fmt.Errorf("data: exposure P %v must be in (0, 1] and MaxGamma %v finite and above 1", e.P, e.MaxGamma)
	}
	for _, t := range e.Tasks {
		if !t.Valid() {
			return fmt.Errorf("data: exposure: invalid task %d", int(t))
		}
	}
	return nil
}

// gamma is the exponent of the sample of task t with this key (1: unchanged).
func (e *Exposure) gamma(t degrade.Task, key uint64) float64 {
	if e == nil || len(e.Tasks) > 0 && !slices.Contains(e.Tasks, t) {
		return 1
	}
	h := mix64(key ^ 0x6578706f73757265) // "exposure": its own stream
	if float64(h>>11)/(1<<53) >= e.P {
		return 1
	}
	return 1 + (e.MaxGamma-1)*float64(mix64(h)>>11)/(1<<53)
}

// darken applies x^u in place, then the 8-bit quantisation photos have.
func darken(m *degrade.Image, u float64) *degrade.Image {
	for i, v := range m.Pix {
		m.Pix[i] = float32(math.Pow(float64(v), u))
	}
	return m.Quantize8()
}

// CleanSource is the Source returned by Clean.
type CleanSource struct {
	dir      string
	names    []string
	sizes    []image.Point
	tasks    []degrade.Task
	sampler  *degrade.Sampler
	fixed    bool
	cache    *cache
	depth    func(name string, w, h int) (*degrade.DepthMap, error)
	exposure *Exposure
}

// Clean returns a Source that degrades the clean images of dir on the fly with
// the distributions of preset and the given seed (no precomputed LQ data).
//
// Each patch is degraded from a window of the clean image around it, never
// the whole image: degrading a 2K photo per sample would cost ~100x more. The
// window and what it reproduces depend on the operator (W x H the image size):
//
//	dark   the patch itself; exactly the whole-image degradation, cropped.
//	blur   the patch plus ks/2 pixels, clipped to the image; exactly the
//	       whole-image blur, cropped (reflect-101 borders only at the image's
//	       own edges).
//	jpeg   the patch widened to the 16x16 block grid of the image; exactly
//	       the whole-image JPEG, cropped (same blocks, same chroma averaging).
//	sr     the patch plus 12 pixels, widened to multiples of 4; exactly the
//	       whole-image x4 down/up resize, cropped, when W and H are multiples
//	       of 4 (otherwise the whole image is resized by floor(W/4)/W, not
//	       1/4, a sub-pixel shift near the right and bottom).
//	noise  the patch itself with its own normal draws: the same distribution
//	       as the whole-image noise, not the same samples.
//	rain   the patch plus 24 pixels on the 4-pixel grid: the streak layer is
//	       drawn for the window and min-max normalised over it, so streaks
//	       are distributed like the reference's but not equal to whole-image
//	       rain (whose normalisation is global).
//	haze   the patch plus 8 pixels on the 4-pixel grid, with the depth of
//	       the whole image (o.Depth, else degrade.PseudoDepth; computed once
//	       per cached image) normalised by its whole-image maximum: the
//	       whole-image haze, cropped, up to float rounding with a full-
//	       resolution depth map, and up to the difference between the
//	       maxima of a quarter-resolution map and of its x4 bilinear
//	       enlargement otherwise (tested: within one 8-bit step).
//
// Rain and haze patches come from the top-left area whose sides are multiples
// of 4, as the reference's rain and haze images are cropped (Size reports it).
// The GT patch is the clean pixels of the same rectangle. Names are the file
// names; files whose header cannot be read are reported through o.OnSkip and
// left out; a folder without readable images is an ErrEmpty error.
func Clean(dir string, preset degrade.Preset, seed uint64, o *CleanOptions) (*CleanSource, error) {
	var opt CleanOptions
	if o != nil {
		opt = *o
	}
	if opt.Exposure != nil {
		if err := opt.Exposure.Validate(); err != nil {
			return nil, fmt.Errorf("data: Clean: %w", err)
		}
	}
	tasks := degrade.AllTasks()
	if opt.Tasks != nil {
		tasks = tasksIn(func(t degrade.Task) bool { return slices.Contains(opt.Tasks, t) })
		if len(tasks) == 0 {
			return nil, fmt.Errorf("data: Clean: no valid task in %v", opt.Tasks)
		}
	}
	names, err := listImages(dir)
	if err != nil {
		return nil, err
	}
	s := &CleanSource{dir: dir, tasks: tasks, sampler: degrade.NewSampler(preset, seed), fixed: opt.FixedParams, depth: opt.Depth,
		exposure: opt.Exposure}
	for _, n := range names {
		w, h, err := imageSize(filepath.Join(dir, n))
		if err != nil {
			opt.OnSkip.report(n, err)
			continue
		}
		s.names = append(s.names, n)
		s.sizes = append(s.sizes, image.Pt(w, h))
	}
	if len(s.names) == 0 {
		return nil, fmt.Errorf("%w: no readable image in %s", ErrEmpty, dir)
	}
	cb := opt.CacheBytes
	if cb == 0 {
		cb = DefaultCacheBytes
	}
	s.cache = newCache(cb)
	return s, nil
}

// Tasks implements Source.
func (s *CleanSource) Tasks() []degrade.Task { return slices.Clone(s.tasks) }

// Len implements Source: every task has all the images.
func (s *CleanSource) Len(t degrade.Task) int {
	if !slices.Contains(s.tasks, t) {
		return 0
	}
	return len(s.names)
}

// Name implements Source: the file name.
func (s *CleanSource) Name(t degrade.Task, i int) string { return s.names[i] }

// Size implements Source: the image size, cut to multiples of 4 for rain and
// haze.
func (s *CleanSource) Size(t degrade.Task, i int) (w, h int) {
	p := s.sizes[i]
	if t == degrade.Rain || t == degrade.Haze {
		return p.X - p.X%4, p.Y - p.Y%4
	}
	return p.X, p.Y
}

// Params returns the degradation parameters Patch uses for image i, task t
// and key: drawn from key, or from the image name with FixedParams.
func (s *CleanSource) Params(t degrade.Task, i int, key uint64) (degrade.Params, error) {
	if s.fixed {
		key = degrade.Key(s.names[i])
	}
	return s.sampler.Draw(t, key)
}

func alignDown(v, k int) int { return v - v%k }
func alignUp(v, k int) int   { return alignDown(v+k-1, k) }

// window returns the area of the clean image degraded to produce patch r.
func (s *CleanSource) window(t degrade.Task, p degrade.Params, r image.Rectangle, w, h int) image.Rectangle {
	grow := func(m, k, w, h int) image.Rectangle {
		return image.Rect(max(0, alignDown(r.Min.X-m, k)), max(0, alignDown(r.Min.Y-m, k)),
			min(w, alignUp(r.Max.X+m, k)), min(h, alignUp(r.Max.Y+m, k)))
	}
	switch t {
	case degrade.Blur:
		return grow(p.KernelSize/2, 1, w, h)
	case degrade.JPEG:
		return grow(0, 16, w, h)
	case degrade.SR:
		return grow(12, 4, w, h)
	case degrade.Rain:
		return grow(24, 4, w-w%4, h-h%4)
	case degrade.Haze:
		return grow(8, 4, w-w%4, h-h%4)
	}
	return r
}

// hazeDepth returns the depth map of the image's mod-4 area (the user's,
// else the quarter-resolution pseudo-depth) and its maximum, computed once per
// decoded image.
func (p *planes) hazeDepth(name string, user func(string, int, int) (*degrade.DepthMap, error)) (*degrade.DepthMap, float64, error) {
	p.depthOnce.Do(func() {
		w, h := p.w-p.w%4, p.h-p.h%4
		if user != nil {
			p.depth, p.depthErr = user(name, w, h)
			if p.depthErr == nil && (p.depth == nil || len(p.depth.D) != p.depth.W*p.depth.H ||
				!(p.depth.W == w && p.depth.H == h || p.depth.W*4 == w && p.depth.H*4 == h)) {
				p.depthErr = fmt.Errorf("data: depth map of %s does not fit %dx%d (want %dx%d or %dx%d)", name, w, h, w/4, h/4, w, h)
			}
		} else {
			p.depth, p.depthErr = degrade.PseudoDepth(p.crop(image.Rect(0, 0, w, h)))
		}
		if p.depthErr == nil {
			p.depthMax = math.Inf(-1)
			for _, v := range p.depth.D {
				p.depthMax = max(p.depthMax, v)
			}
		}
	})
	return p.depth, p.depthMax, p.depthErr
}

// Patch implements Source: the clean pixels of r as GT and their degradation
// (see Clean) as LQ.
func (s *CleanSource) Patch(t degrade.Task, i int, r image.Rectangle, key uint64) (lq, gt *degrade.Image, err error) {
	if s.Len(t) == 0 {
		return nil, nil, fmt.Errorf("data: Clean source has no task %v", t)
	}
	w, h := s.Size(t, i)
	if !r.In(image.Rect(0, 0, w, h)) {
		return nil, nil, fmt.Errorf("data: %s: patch %v outside %dx%d", s.names[i], r, w, h)
	}
	pl, err := s.cache.load(filepath.Join(s.dir, s.names[i]))
	if err != nil {
		return nil, nil, err
	}
	if pl.w != s.sizes[i].X || pl.h != s.sizes[i].Y {
		return nil, nil, fmt.Errorf("data: %s changed size since it was listed", s.names[i])
	}
	prm, err := s.Params(t, i, key)
	if err != nil {
		return nil, nil, err
	}
	if s.fixed && t == degrade.Noise {
		// One noise seed per image, but not one noise field for every crop.
		prm.Seed ^= mix64(uint64(r.Min.X)<<32 | uint64(r.Min.Y))
	}
	win := s.window(t, prm, r, pl.w, pl.h)
	src, gt := pl.crop(win), pl.crop(r)
	if u := s.exposure.gamma(t, key); u != 1 {
		darken(src, u)
		darken(gt, u)
	}
	var out *degrade.Image
	if t == degrade.Haze {
		full, fmax, err := pl.hazeDepth(s.names[i], s.depth)
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: %w", s.names[i], err)
		}
		q := 4 // quarter-resolution map
		if full.W == pl.w-pl.w%4 && full.H == pl.h-pl.h%4 {
			q = 1
		}
		d := &degrade.DepthMap{W: win.Dx() / q, H: win.Dy() / q}
		d.D = make([]float64, d.W*d.H)
		cmax := math.Inf(-1)
		for y := range d.H {
			row := full.D[(win.Min.Y/q+y)*full.W+win.Min.X/q:]
			copy(d.D[y*d.W:(y+1)*d.W], row[:d.W])
			for _, v := range row[:d.W] {
				cmax = max(cmax, v)
			}
		}
		// AddHaze normalises by the window's maximum; rescaling beta makes
		// it the whole image's: exp(-beta'*d/cmax) = exp(-beta*d/fmax).
		out, err = degrade.AddHaze(src, d, prm.Airlight, prm.Beta*cmax/fmax)
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: %w", s.names[i], err)
		}
	} else if out, err = degrade.Apply(src, prm, nil); err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", s.names[i], err)
	}
	return out.Crop(r.Sub(win.Min)), gt, nil
}

// mix64 is the SplitMix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
