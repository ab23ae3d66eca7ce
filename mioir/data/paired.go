package data

import (
	"bufio"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomioir/gomioir/degrade"
)

// PairedOptions configure Paired. The zero value (or nil) reads the folder
// layout root/GT + root/{sr,blur,noise,jpeg,rain,haze,dark}.
type PairedOptions struct {
	// Meta, when set, is a reference meta file (MiO-meta-DF2K_300_*.txt):
	// one LQ path per line, \r\n or \n line endings, blank lines ignored.
	// The GT path and the task of each line follow the reference rule (see
	// Paired). Without Meta the folder layout is read.
	Meta string
	// Tasks restricts the source to these tasks (nil: every task whose LQ
	// folder exists, or every task named in the meta file).
	Tasks []degrade.Task
	// Suffix is appended to every folder name of the layout: "_sub300"
	// reads root/GT_sub300 and root/rain_sub300, ... (the reference's
	// sub-image folders). Not used with Meta.
	Suffix string
	// CacheBytes bounds the cache of decoded images (0: DefaultCacheBytes,
	// negative: no cache).
	CacheBytes int64
	// OnSkip receives the files skipped because their header cannot be read.
	OnSkip SkipFunc
}

// pairItem is one LQ/GT pair.
type pairItem struct {
	name   string // for logs: folder/file of the LQ
	lq, gt string // paths
	w, h   int    // common area: the LQ size
}

// PairedSource is the Source returned by Paired.
type PairedSource struct {
	items [degrade.NumTasks + 1][]pairItem
	cache *cache
}

// metaTags is the reference's list of folder tags, in the order it tries them
// (MiODateset: the first tag found is replaced by "GT_"). "snow_" names no
// task of MiOIR and is rejected.
var metaTags = []struct {
	tag  string
	task degrade.Task
}{
	{"snow_", 0}, {"rain_", degrade.Rain}, {"haze_", degrade.Haze}, {"blur_", degrade.Blur},
	{"noise_", degrade.Noise}, {"jpeg_", degrade.JPEG}, {"dark_", degrade.LowLight}, {"sr_", degrade.SR},
}

// metaGT applies the reference GT rule to the folder name holding an LQ file:
// "LQ_sub" becomes "GT_sub", then the first tag found among snow_, rain_,
// haze_, blur_, noise_, jpeg_, dark_, sr_ is replaced by "GT_" (every
// occurrence, as Python's str.replace does), and its word is the task. A
// folder named exactly after a task ("rain") maps to "GT", so the plain layout
// can be listed in a meta file too.
func metaGT(folder string) (gtFolder string, t degrade.Task, err error) {
	f := strings.ReplaceAll(folder, "LQ_sub", "GT_sub")
	for _, m := range metaTags {
		if strings.Contains(f, m.tag) {
			if m.task == 0 {
				return "", 0, fmt.Errorf("data: folder %q: tag %q names no MiOIR task", folder, m.tag)
			}
			return strings.ReplaceAll(f, m.tag, "GT_"), m.task, nil
		}
	}
	if t, err := degrade.ParseTask(folder); err == nil && folder == t.Name() {
		return "GT", t, nil
	}
	return "", 0, fmt.Errorf("data: folder %q holds none of the task tags rain_ haze_ blur_ noise_ jpeg_ dark_ sr_", folder)
}

// Paired returns a Source of precomputed LQ/GT pairs, read in one of two ways.
//
// Folder layout (o.Meta empty): root/GT holds the clean images and
// root/{name} one LQ folder per task, name as degrade.Task.Name (sr, blur,
// noise, jpeg, rain, haze, dark), with file names identical to the GT's. Every
// LQ file must have its GT file.
//
// Meta file (o.Meta set): each line is an LQ path, as written by the
// reference's gen_meta.py. The GT path replaces the LQ's folder name by the
// reference rule (rain_sub300 -> GT_sub300; see metaGT), applied to the
// folder name only, not the whole path as the reference does (its
// substring match on the whole path breaks on a root such as /data/dark_x/).
// Relative paths are resolved against root (or the meta file's folder when
// root is ""). Absolute paths are used as written when root is "", and are
// re-rooted to root/folder/file otherwise, which reads the authors' meta
// files (/home/notebook/...) against a local copy of the data.
//
// Sizes are read from the file headers at construction. An LQ image may be up
// to 3 pixels smaller than its GT on each side (the reference's rain and haze
// images are cropped to multiples of 4); patches are cut from the common
// top-left area. Larger differences, or a missing GT, are ErrMismatch errors.
// Files whose header cannot be read are reported through o.OnSkip and left out;
// a task left without images is an ErrEmpty error.
func Paired(root string, o *PairedOptions) (*PairedSource, error) {
	var opt PairedOptions
	if o != nil {
		opt = *o
	}
	want := func(t degrade.Task) bool {
		if opt.Tasks == nil {
			return true
		}
		for _, u := range opt.Tasks {
			if u == t {
				return true
			}
		}
		return false
	}
	var cand [degrade.NumTasks + 1][]pairItem
	if opt.Meta == "" {
		gtDir := filepath.Join(root, "GT"+opt.Suffix)
		if st, err := os.Stat(gtDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("data: GT folder %s: %w", gtDir, ErrEmpty)
		}
		for _, t := range degrade.AllTasks() {
			if !want(t) {
				continue
			}
			dir := filepath.Join(root, t.Name()+opt.Suffix)
			st, err := os.Stat(dir)
			if err != nil || !st.IsDir() {
				if opt.Tasks != nil {
					return nil, fmt.Errorf("data: LQ folder of task %s: %s: %w", t, dir, ErrEmpty)
				}
				continue
			}
			names, err := listImages(dir)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				cand[t] = append(cand[t], pairItem{
					name: t.Name() + opt.Suffix + "/" + n,
					lq:   filepath.Join(dir, n),
					gt:   filepath.Join(gtDir, n),
				})
			}
		}
	} else {
		f, err := os.Open(opt.Meta)
		if err != nil {
			return nil, fmt.Errorf("data: meta file: %w", err)
		}
		base := root
		if base == "" {
			base = filepath.Dir(opt.Meta)
		}
		sc := bufio.NewScanner(f)
		line := 0
		for sc.Scan() {
			line++
			p := strings.TrimSpace(sc.Text())
			if p == "" {
				continue
			}
			p = filepath.FromSlash(p)
			folder := filepath.Base(filepath.Dir(p))
			file := filepath.Base(p)
			gtFolder, t, err := metaGT(folder)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s:%d: %w", opt.Meta, line, err)
			}
			if !want(t) {
				continue
			}
			var lq string
			switch {
			case !filepath.IsAbs(p):
				lq = filepath.Join(base, p)
			case root == "":
				lq = p
			default:
				lq = filepath.Join(root, folder, file)
			}
			cand[t] = append(cand[t], pairItem{
				name: folder + "/" + file,
				lq:   lq,
				gt:   filepath.Join(filepath.Dir(filepath.Dir(lq)), gtFolder, file),
			})
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("data: meta file %s: %w", opt.Meta, err)
		}
	}

	s := &PairedSource{}
	var missing, mismatched []string
	for _, t := range degrade.AllTasks() {
		for _, it := range cand[t] {
			if _, err := os.Stat(it.gt); err != nil {
				if _, err2 := os.Stat(it.lq); err2 != nil {
					opt.OnSkip.report(it.name, err2)
					continue
				}
				missing = append(missing, it.name)
				continue
			}
			lw, lh, err := imageSize(it.lq)
			if err != nil {
				opt.OnSkip.report(it.name, err)
				continue
			}
			gw, gh, err := imageSize(it.gt)
			if err != nil {
				opt.OnSkip.report(it.gt, err)
				continue
			}
			if lw > gw || lh > gh || gw-lw > 3 || gh-lh > 3 {
				mismatched = append(mismatched, fmt.Sprintf("%s (LQ %dx%d, GT %dx%d)", it.name, lw, lh, gw, gh))
				continue
			}
			it.w, it.h = lw, lh
			s.items[t] = append(s.items[t], it)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: no GT file for %s", ErrMismatch, listNames(missing))
	}
	if len(mismatched) > 0 {
		return nil, fmt.Errorf("%w: sizes differ by more than the mod-4 crop: %s", ErrMismatch, listNames(mismatched))
	}
	found := false
	for _, t := range degrade.AllTasks() {
		if len(s.items[t]) > 0 {
			found = true
		} else if len(cand[t]) > 0 || (opt.Tasks != nil && want(t)) {
			return nil, fmt.Errorf("%w for task %s under %s", ErrEmpty, t, root+opt.Meta)
		}
	}
	if !found {
		where := root
		if opt.Meta != "" {
			where = opt.Meta
		}
		return nil, fmt.Errorf("%w: no LQ images under %s", ErrEmpty, where)
	}
	cb := opt.CacheBytes
	if cb == 0 {
		cb = DefaultCacheBytes
	}
	s.cache = newCache(cb)
	return s, nil
}

// Tasks implements Source.
func (s *PairedSource) Tasks() []degrade.Task {
	return tasksIn(func(t degrade.Task) bool { return len(s.items[t]) > 0 })
}

// Len implements Source.
func (s *PairedSource) Len(t degrade.Task) int {
	if !t.Valid() {
		return 0
	}
	return len(s.items[t])
}

// Name implements Source: the LQ folder and file name ("rain/0001.png").
func (s *PairedSource) Name(t degrade.Task, i int) string { return s.items[t][i].name }

// Size implements Source: the LQ size (the common area of the pair).
func (s *PairedSource) Size(t degrade.Task, i int) (w, h int) {
	it := &s.items[t][i]
	return it.w, it.h
}

// Paths returns the LQ and GT file paths of image i of task t.
func (s *PairedSource) Paths(t degrade.Task, i int) (lq, gt string) {
	it := &s.items[t][i]
	return it.lq, it.gt
}

// Patch implements Source: rectangle r of the LQ and GT files (key unused).
func (s *PairedSource) Patch(t degrade.Task, i int, r image.Rectangle, key uint64) (lq, gt *degrade.Image, err error) {
	it := &s.items[t][i]
	if !r.In(image.Rect(0, 0, it.w, it.h)) {
		return nil, nil, fmt.Errorf("data: %s: patch %v outside %dx%d", it.name, r, it.w, it.h)
	}
	lp, err := s.cache.load(it.lq)
	if err != nil {
		return nil, nil, err
	}
	gp, err := s.cache.load(it.gt)
	if err != nil {
		return nil, nil, err
	}
	if lp.w != it.w || lp.h != it.h || gp.w < it.w || gp.h < it.h {
		return nil, nil, fmt.Errorf("%w: %s changed size since it was listed", ErrMismatch, it.name)
	}
	return lp.crop(r), gp.crop(r), nil
}
