package data

import (
	"fmt"
	"image"
	"path/filepath"
	"slices"

	"github.com/gomioir/gomioir/degrade"
)

// Pair is one validation or test image: its name, its task when known, and
// a loader for its pixels. Images are read when Load is called, so a list of
// pairs costs no memory.
type Pair struct {
	Name string
	Task degrade.Task // 0 when the folder does not say
	load func() (lq, gt *degrade.Image, err error)
}

// Load reads the pair: the LQ image and the GT cropped top-left to the LQ size
// (BasicSR's paired validation: rain and haze LQs are up to 3 pixels smaller).
func (p Pair) Load() (lq, gt *degrade.Image, err error) {
	if p.load == nil {
		return nil, nil, fmt.Errorf("data: empty Pair")
	}
	return p.load()
}

// cropToLQ crops gt top-left to lq's size; a larger LQ is a mismatch.
func cropToLQ(name string, lq, gt *degrade.Image) (*degrade.Image, error) {
	if lq.W > gt.W || lq.H > gt.H {
		return nil, fmt.Errorf("%w: %s: LQ %dx%d larger than GT %dx%d", ErrMismatch, name, lq.W, lq.H, gt.W, gt.H)
	}
	if lq.W == gt.W && lq.H == gt.H {
		return gt, nil
	}
	return gt.Crop(image.Rect(0, 0, lq.W, lq.H)), nil
}

// Pairs pairs the images of gtDir and lqDir by identical file names, as
// BasicSR's PairedImageDataset does in folder mode, sorted by name. Both
// folders must hold the same names (else ErrMismatch, naming the first
// offenders); an empty folder is ErrEmpty. Task is left 0.
func Pairs(gtDir, lqDir string) ([]Pair, error) {
	lqs, err := listImages(lqDir)
	if err != nil {
		return nil, err
	}
	gts, err := listImages(gtDir)
	if err != nil {
		return nil, err
	}
	if len(lqs) == 0 {
		return nil, fmt.Errorf("%w: no images in %s", ErrEmpty, lqDir)
	}
	var onlyLQ, onlyGT []string
	for _, n := range lqs {
		if _, ok := slices.BinarySearch(gts, n); !ok {
			onlyLQ = append(onlyLQ, n)
		}
	}
	for _, n := range gts {
		if _, ok := slices.BinarySearch(lqs, n); !ok {
			onlyGT = append(onlyGT, n)
		}
	}
	if len(onlyLQ) > 0 || len(onlyGT) > 0 {
		return nil, fmt.Errorf("%w: %s and %s do not hold the same names: LQ only [%s], GT only [%s]",
			ErrMismatch, lqDir, gtDir, listNames(onlyLQ), listNames(onlyGT))
	}
	out := make([]Pair, len(lqs))
	for i, n := range lqs {
		lp, gp := filepath.Join(lqDir, n), filepath.Join(gtDir, n)
		out[i] = Pair{Name: n, load: func() (*degrade.Image, *degrade.Image, error) {
			lq, err := readImage(lp)
			if err != nil {
				return nil, nil, err
			}
			gt, err := readImage(gp)
			if err != nil {
				return nil, nil, err
			}
			gt, err = cropToLQ(n, lq, gt)
			if err != nil {
				return nil, nil, err
			}
			return lq, gt, nil
		}}
	}
	return out, nil
}

// DegradedPairs is a validation set for task t made from the clean images of
// cleanDir: each whole image is degraded with a degrade.Sampler of preset and
// seed, keyed by its file name (degrade.Key), so the set is the same in every
// run and for every model; the GT is the clean image cropped to the LQ size
// (rain and haze cut to multiples of 4). Haze uses degrade.PseudoDepth. Pairs
// are sorted by name; an empty folder is ErrEmpty.
func DegradedPairs(cleanDir string, t degrade.Task, preset degrade.Preset, seed uint64) ([]Pair, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("data: invalid task %d", int(t))
	}
	names, err := listImages(cleanDir)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no images in %s", ErrEmpty, cleanDir)
	}
	s := degrade.NewSampler(preset, seed)
	out := make([]Pair, len(names))
	for i, n := range names {
		path := filepath.Join(cleanDir, n)
		out[i] = Pair{Name: n, Task: t, load: func() (*degrade.Image, *degrade.Image, error) {
			gt, err := readImage(path)
			if err != nil {
				return nil, nil, err
			}
			lq, _, err := s.Degrade(gt, t, degrade.Key(n), nil)
			if err != nil {
				return nil, nil, fmt.Errorf("data: %s: %w", n, err)
			}
			gt, err = cropToLQ(n, lq, gt)
			if err != nil {
				return nil, nil, err
			}
			return lq, gt, nil
		}}
	}
	return out, nil
}

// TaskPairs is DegradedPairs for each of tasks, in order: the per-task
// validation sets of a clean folder (the reference validates every 25k
// iterations on a fixed set).
func TaskPairs(cleanDir string, tasks []degrade.Task, preset degrade.Preset, seed uint64) (map[degrade.Task][]Pair, error) {
	out := make(map[degrade.Task][]Pair, len(tasks))
	for _, t := range tasks {
		ps, err := DegradedPairs(cleanDir, t, preset, seed)
		if err != nil {
			return nil, err
		}
		out[t] = ps
	}
	return out, nil
}
