// Command autoeval measures the bundled model's automatic task choice on
// photos it never saw in training, degraded by code other than the library's
// degrade package where such code exists: JPEG by libjpeg-turbo's cjpeg and
// djpeg (several qualities, 4:2:0 and 4:4:4) and by Go's image/jpeg, Gaussian
// noise, Gaussian and defocus blur, and low light (gamma and exposure) by the
// simple code below; rain, haze and x4 SR, which have no outside
// implementation here, from the library's In-Dis preset.
//
// For every degraded image it restores with each of the seven task prompts,
// records the classifier's probabilities and what Options.Auto does under
// the default safety rule (mioir.AutoGuard), then prints the confusion matrix
// and a per-image table of PSNR(restored, clean) - PSNR(degraded, clean)
// (dB, RGB, crop 4) for the task given, the raw classifier choice and the
// guarded auto mode:
//
//	go run ./scripts/autoeval -photos a.png,b.png [-crop 192] [-json out.jsonl] [-write dir]
//
// -write saves every clean crop and degraded input as PNG (a manifest.tsv
// names them), e.g. for test fixtures. Without cjpeg on the PATH the libjpeg
// rows are left out with a message.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"image"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// A case is one way of degrading a photo.
type dcase struct {
	name string
	task degrade.Task
	fn   func(img *degrade.Image, key uint64) (*degrade.Image, error)
}

// Record is one degraded image's measurements (one JSON line with -json).
type Record struct {
	Image, Case string
	Task        string
	PSNRIn      float64
	Probs       []float32
	// Gain holds PSNR(restored with task t) - PSNRIn, by prompt index.
	Gain [prompt.NumTasks]float64
	// Raw is the classifier's unguarded choice; Auto what Restore with
	// Options.Auto did (the default guard), AutoGain its gain.
	Raw, Auto string
	Fallback  bool
	AutoGain  float64
	CropProbs [][]float32
	// Input statistics: mean dark channel (15x15 patches), 1st percentile of
	// the pixels' minimum channel, mean and 99th percentile luminance.
	DarkChannel, Black, Mean, Bright float64
}

func inputStats(m *degrade.Image) (dc, black, mean, bright float64) {
	n := m.W * m.H
	mins := make([]float64, n)
	lum := make([]float64, n)
	r, g, b := m.Plane(0), m.Plane(1), m.Plane(2)
	for i := range n {
		mins[i] = float64(min(r[i], g[i], b[i]))
		lum[i] = 0.299*float64(r[i]) + 0.587*float64(g[i]) + 0.114*float64(b[i])
		mean += lum[i]
	}
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			v := 1.0
			for yy := max(0, y-7); yy <= min(m.H-1, y+7); yy++ {
				for xx := max(0, x-7); xx <= min(m.W-1, x+7); xx++ {
					v = min(v, mins[yy*m.W+xx])
				}
			}
			dc += v
		}
	}
	sort.Float64s(mins)
	sort.Float64s(lum)
	return dc / float64(n), mins[n/100], mean / float64(n), lum[n*99/100]
}

func quadrants(m *degrade.Image) []*degrade.Image {
	w, h := m.W/2, m.H/2
	return []*degrade.Image{m.Crop(image.Rect(0, 0, w, h)), m.Crop(image.Rect(w, 0, 2*w, h)),
		m.Crop(image.Rect(0, h, w, 2*h)), m.Crop(image.Rect(w, h, 2*w, 2*h))}
}

func classify(m *mioir.Model, img *degrade.Image) ([]float32, error) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := torch.FromImage(s, img.ToImage(), torch.CPU)
	if err != nil {
		return nil, err
	}
	p, err := m.Classify(x)
	if err != nil {
		return nil, err
	}
	return p[0].Probs[:], nil
}

func main() {
	photos := flag.String("photos", "", "comma-separated clean photos never used in training")
	side := flag.Int("crop", 192, "crop side (pixels, multiple of 4); up to 4 crops per photo")
	jsonOut := flag.String("json", "", "write one JSON record per degraded image here")
	write := flag.String("write", "", "save clean crops and degraded inputs as PNG in this folder")
	statsOnly := flag.Bool("stats-only", false, "classify and measure the inputs only (no restoration; no tables)")
	flag.Parse()
	if *photos == "" {
		log.Fatal("autoeval: -photos is required")
	}
	m, err := pretrained.Default()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	cases := externalCases()
	var recs []Record
	var manifest []string
	for _, p := range strings.Split(*photos, ",") {
		crops, err := loadCrops(p, *side)
		if err != nil {
			log.Fatal(err)
		}
		for ci, clean := range crops {
			id := fmt.Sprintf("%s#%d", strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), ci)
			for _, c := range cases {
				key := hash(id + c.name)
				deg, err := c.fn(clean, key)
				if err != nil {
					log.Fatalf("%s %s: %v", id, c.name, err)
				}
				ref := clean.CropMod(4) // rain and haze crop to multiples of 4
				if deg.W != ref.W || deg.H != ref.H {
					log.Fatalf("%s %s: %dx%d output for a %dx%d input", id, c.name, deg.W, deg.H, ref.W, ref.H)
				}
				r, err := measure(m, id, c, ref, deg, *statsOnly)
				if err != nil {
					log.Fatalf("%s %s: %v", id, c.name, err)
				}
				recs = append(recs, r)
				fmt.Fprintf(os.Stderr, "%-22s %-14s in %5.2f given %+6.2f raw %-5s %+6.2f auto %-5s %+6.2f\n", id, c.name,
					r.PSNRIn, r.Gain[c.task.PromptIndex()], r.Raw, r.gainOf(r.Raw), r.Auto, r.AutoGain)
				if *write != "" {
					base := strings.NewReplacer("#", "-", " ", "-").Replace(id)
					dn := base + "_" + strings.ReplaceAll(c.name, " ", "-") + ".png"
					if err := savePNG(filepath.Join(*write, "clean", base+".png"), ref); err != nil {
						log.Fatal(err)
					}
					if err := savePNG(filepath.Join(*write, dn), deg); err != nil {
						log.Fatal(err)
					}
					manifest = append(manifest, fmt.Sprintf("%s\t%s\tclean/%s.png\t%s", dn, c.task, base, c.name))
				}
			}
		}
	}
	if *write != "" {
		if err := os.WriteFile(filepath.Join(*write, "manifest.tsv"), []byte(strings.Join(manifest, "\n")+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *jsonOut != "" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				log.Fatal(err)
			}
		}
		if err := os.WriteFile(*jsonOut, b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if !*statsOnly {
		report(recs)
	}
}

func (r Record) gainOf(task string) float64 {
	if task == "" || task == "none" {
		return 0
	}
	t, err := degrade.ParseTask(task)
	if err != nil {
		return math.NaN()
	}
	return r.Gain[t.PromptIndex()]
}

// measure restores deg with each prompt and with Auto (the default guard).
func measure(m *mioir.Model, id string, c dcase, clean, deg *degrade.Image, statsOnly bool) (Record, error) {
	ctx := context.Background()
	in := deg.ToImage()
	ps := func(img image.Image) (float64, error) {
		res, err := metrics.Measure(img, clean.ToImage(), &metrics.Options{CropBorder: 4, PSNROnly: true})
		return res.PSNR, err
	}
	r := Record{Image: id, Case: c.name, Task: c.task.String()}
	var err error
	if r.PSNRIn, err = ps(in); err != nil {
		return r, err
	}
	r.DarkChannel, r.Black, r.Mean, r.Bright = inputStats(deg)
	for _, q := range quadrants(deg) {
		pr, err := classify(m, q)
		if err != nil {
			return r, err
		}
		r.CropProbs = append(r.CropProbs, pr)
	}
	if statsOnly {
		r.Probs, err = classify(m, deg)
		return r, err
	}
	for _, t := range degrade.AllTasks() {
		out, _, err := m.Restore(ctx, in, &mioir.Options{Task: t})
		if err != nil {
			return r, err
		}
		p, err := ps(out)
		if err != nil {
			return r, err
		}
		r.Gain[t.PromptIndex()] = p - r.PSNRIn
	}
	out, info, err := m.Restore(ctx, in, &mioir.Options{Auto: true})
	if err != nil {
		return r, err
	}
	p, err := ps(out)
	if err != nil {
		return r, err
	}
	r.Probs, r.AutoGain = info.Probs, p-r.PSNRIn
	raw, err := prompt.Select(info.Probs)
	if err != nil {
		return r, err
	}
	r.Raw, r.Auto = raw.String(), info.Task.String()
	if info.Task == 0 {
		r.Auto = "none"
	}
	r.Fallback = info.Fallback != nil
	return r, nil
}

func report(recs []Record) {
	tasks := degrade.AllTasks()
	// Confusion matrix of the raw classifier: rows the true task.
	fmt.Println("Confusion matrix (rows: degradation; columns: the classifier's choice; n = images)")
	fmt.Printf("| true \\ chosen |")
	for _, t := range tasks {
		fmt.Printf(" %s |", t)
	}
	fmt.Println(" n | correct |")
	fmt.Println("|---|" + strings.Repeat("---:|", len(tasks)+2))
	for _, tt := range tasks {
		n, right := 0, 0
		cnt := map[string]int{}
		for _, r := range recs {
			if r.Task == tt.String() {
				cnt[r.Raw]++
				n++
				if r.Raw == r.Task {
					right++
				}
			}
		}
		if n == 0 {
			continue
		}
		fmt.Printf("| %s |", tt)
		for _, t := range tasks {
			fmt.Printf(" %d |", cnt[t.String()])
		}
		fmt.Printf(" %d | %.0f %% |\n", n, 100*float64(right)/float64(n))
	}

	fmt.Println("\nPer image: PSNR(restored) - PSNR(degraded), dB, RGB, crop 4")
	fmt.Println("| image | degradation | input dB | task given | raw classifier (choice) | auto, guarded (choice) |")
	fmt.Println("|---|---|---:|---:|---:|---:|")
	for _, r := range recs {
		t, _ := degrade.ParseTask(r.Task)
		auto := r.Auto
		if r.Fallback {
			auto += ", fallback"
		}
		fmt.Printf("| %s | %s | %.2f | %+.2f | %+.2f (%s) | %+.2f (%s) |\n", r.Image, r.Case, r.PSNRIn,
			r.Gain[t.PromptIndex()], r.gainOf(r.Raw), r.Raw, r.AutoGain, auto)
	}

	fmt.Println("\nSummary by degradation (mean gain dB; worst over images; auto fallbacks)")
	fmt.Println("| degradation | n | given mean | raw mean | raw worst | auto mean | auto worst | fallbacks |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	var names []string
	by := map[string][]Record{}
	for _, r := range recs {
		if _, ok := by[r.Case]; !ok {
			names = append(names, r.Case)
		}
		by[r.Case] = append(by[r.Case], r)
	}
	line := func(name string, rs []Record) {
		var g, ra, a stats
		fb := 0
		for _, r := range rs {
			t, _ := degrade.ParseTask(r.Task)
			g.add(r.Gain[t.PromptIndex()])
			ra.add(r.gainOf(r.Raw))
			a.add(r.AutoGain)
			if r.Fallback {
				fb++
			}
		}
		fmt.Printf("| %s | %d | %+.2f | %+.2f | %+.2f | %+.2f | %+.2f | %d |\n", name, len(rs), g.mean(), ra.mean(), ra.min, a.mean(), a.min, fb)
	}
	sort.SliceStable(names, func(i, j int) bool { return by[names[i]][0].Task < by[names[j]][0].Task })
	for _, n := range names {
		line(n, by[n])
	}
	line("**all**", recs)
}

type stats struct {
	sum, min float64
	n        int
}

func (s *stats) add(v float64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	s.sum += v
	s.n++
}

func (s *stats) mean() float64 { return s.sum / float64(max(s.n, 1)) }

// loadCrops reads a photo and returns up to four crops of side (corners
// inward and centre, distinct), or the whole photo cropped to a multiple of
// 4 when it is smaller.
func loadCrops(path string, side int) ([]*degrade.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src := degrade.FromImage(img)
	if src.W < side || src.H < side {
		return []*degrade.Image{src.CropMod(4)}, nil
	}
	var out []*degrade.Image
	seen := map[image.Point]bool{}
	for _, p := range []image.Point{{0, 0}, {src.W - side, src.H - side}, {(src.W - side) / 2, (src.H - side) / 2}, {src.W - side, 0}} {
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, src.Crop(image.Rect(p.X, p.Y, p.X+side, p.Y+side)))
	}
	return out, nil
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func externalCases() []dcase {
	var cs []dcase
	if _, err := exec.LookPath("cjpeg"); err == nil {
		for _, q := range []int{10, 20, 40} {
			cs = append(cs, dcase{fmt.Sprintf("cjpeg q%d", q), degrade.JPEG, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
				return libjpeg(m, q, false)
			}})
		}
		cs = append(cs, dcase{"cjpeg q20 444", degrade.JPEG, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return libjpeg(m, 20, true)
		}})
	} else {
		fmt.Fprintln(os.Stderr, "autoeval: cjpeg not found (apt-get install libjpeg-turbo-progs): libjpeg rows left out")
	}
	cs = append(cs,
		dcase{"go-jpeg q15", degrade.JPEG, func(m *degrade.Image, _ uint64) (*degrade.Image, error) { return goJPEG(m, 15) }},
		dcase{"noise s15", degrade.Noise, func(m *degrade.Image, k uint64) (*degrade.Image, error) { return noise(m, 15, k), nil }},
		dcase{"noise s25", degrade.Noise, func(m *degrade.Image, k uint64) (*degrade.Image, error) { return noise(m, 25, k), nil }},
		dcase{"noise s40", degrade.Noise, func(m *degrade.Image, k uint64) (*degrade.Image, error) { return noise(m, 40, k), nil }},
		dcase{"gauss blur s1.5", degrade.Blur, func(m *degrade.Image, _ uint64) (*degrade.Image, error) { return convolve(m, gaussKernel(1.5)), nil }},
		dcase{"gauss blur s2.5", degrade.Blur, func(m *degrade.Image, _ uint64) (*degrade.Image, error) { return convolve(m, gaussKernel(2.5)), nil }},
		dcase{"defocus r3", degrade.Blur, func(m *degrade.Image, _ uint64) (*degrade.Image, error) { return convolve(m, diskKernel(3)), nil }},
		dcase{"gamma 1.6", degrade.LowLight, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return pointwise(m, func(v float64) float64 { return math.Pow(v, 1.6) }), nil
		}},
		dcase{"gamma 2.4", degrade.LowLight, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return pointwise(m, func(v float64) float64 { return math.Pow(v, 2.4) }), nil
		}},
		dcase{"exposure x0.4", degrade.LowLight, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return pointwise(m, func(v float64) float64 { return 0.4 * v }), nil
		}},
	)
	lib := degrade.NewSampler(degrade.InDis(), 1)
	for _, t := range []degrade.Task{degrade.SR, degrade.Rain, degrade.Haze} {
		cs = append(cs, dcase{"library " + t.String(), t, func(m *degrade.Image, k uint64) (*degrade.Image, error) {
			out, _, err := lib.Degrade(m, t, k, nil)
			return out, err
		}})
	}
	return cs
}

// libjpeg compresses with cjpeg and decodes with djpeg (Debian's
// libjpeg-turbo-progs), through binary PPM.
func libjpeg(m *degrade.Image, q int, full bool) (*degrade.Image, error) {
	var ppm bytes.Buffer
	fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", m.W, m.H)
	ppm.Write(toRGB(m))
	args := []string{"-quality", strconv.Itoa(q)}
	if full {
		args = append(args, "-sample", "1x1")
	}
	enc := exec.Command("cjpeg", args...)
	enc.Stdin = &ppm
	jpg, err := enc.Output()
	if err != nil {
		return nil, fmt.Errorf("cjpeg: %w", err)
	}
	dec := exec.Command("djpeg", "-ppm")
	dec.Stdin = bytes.NewReader(jpg)
	out, err := dec.Output()
	if err != nil {
		return nil, fmt.Errorf("djpeg: %w", err)
	}
	return readPPM(out)
}

// toRGB returns interleaved 8-bit RGB.
func toRGB(m *degrade.Image) []byte {
	b := make([]byte, 0, 3*m.W*m.H)
	img := m.ToImage()
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			i := img.PixOffset(x, y)
			b = append(b, img.Pix[i], img.Pix[i+1], img.Pix[i+2])
		}
	}
	return b
}

func readPPM(b []byte) (*degrade.Image, error) {
	var w, h, maxv int
	r := bytes.NewReader(b)
	var magic string
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || magic != "P6" || maxv != 255 {
		return nil, fmt.Errorf("djpeg: unexpected PPM header (%v)", err)
	}
	r.ReadByte() // the single whitespace after maxval
	pix := make([]byte, 3*w*h)
	if _, err := r.Read(pix); err != nil {
		return nil, err
	}
	m := degrade.NewImage(w, h)
	for i := 0; i < w*h; i++ {
		for c := 0; c < 3; c++ {
			m.Pix[c*w*h+i] = float32(pix[3*i+c]) / 255
		}
	}
	return m, nil
}

func goJPEG(m *degrade.Image, q int) (*degrade.Image, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m.ToImage(), &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	img, err := jpeg.Decode(&b)
	if err != nil {
		return nil, err
	}
	return degrade.FromImage(img), nil
}

// q8 rounds to the 8-bit grid, clamped.
func q8(v float64) float32 {
	return float32(math.RoundToEven(min(max(v, 0), 1)*255) / 255)
}

// noise adds Gaussian noise of standard deviation sigma/255 per sample from
// math/rand/v2's PCG (not the degrade package's generator).
func noise(m *degrade.Image, sigma float64, key uint64) *degrade.Image {
	rng := rand.New(rand.NewPCG(key, 0x6e6f697365))
	out := degrade.NewImage(m.W, m.H)
	for i, v := range m.Pix {
		out.Pix[i] = q8(float64(v) + rng.NormFloat64()*sigma/255)
	}
	return out
}

func pointwise(m *degrade.Image, f func(float64) float64) *degrade.Image {
	out := degrade.NewImage(m.W, m.H)
	for i, v := range m.Pix {
		out.Pix[i] = q8(f(float64(v)))
	}
	return out
}

// kernel is a square odd-sided 2D kernel summing to 1.
type kernel struct {
	r int
	w []float64
}

func gaussKernel(sigma float64) kernel {
	r := int(math.Ceil(3 * sigma))
	k := kernel{r, make([]float64, (2*r+1)*(2*r+1))}
	sum := 0.0
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			v := math.Exp(-float64(x*x+y*y) / (2 * sigma * sigma))
			k.w[(y+r)*(2*r+1)+x+r] = v
			sum += v
		}
	}
	for i := range k.w {
		k.w[i] /= sum
	}
	return k
}

// diskKernel is a uniform disk of radius r (defocus), with partial pixels at
// its edge from 4x4 supersampling.
func diskKernel(r int) kernel {
	k := kernel{r, make([]float64, (2*r+1)*(2*r+1))}
	sum := 0.0
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			in := 0
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					fx, fy := float64(x)+(float64(sx)+0.5)/4-0.5, float64(y)+(float64(sy)+0.5)/4-0.5
					if fx*fx+fy*fy <= float64(r*r)+0.25 {
						in++
					}
				}
			}
			k.w[(y+r)*(2*r+1)+x+r] = float64(in) / 16
			sum += float64(in) / 16
		}
	}
	for i := range k.w {
		k.w[i] /= sum
	}
	return k
}

// convolve filters each plane with k, mirroring at the borders (reflect
// without repeating the edge pixel).
func convolve(m *degrade.Image, k kernel) *degrade.Image {
	out := degrade.NewImage(m.W, m.H)
	mirror := func(i, n int) int {
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	}
	side := 2*k.r + 1
	for c := 0; c < 3; c++ {
		p := m.Plane(c)
		o := out.Plane(c)
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				s := 0.0
				for dy := -k.r; dy <= k.r; dy++ {
					row := mirror(y+dy, m.H) * m.W
					for dx := -k.r; dx <= k.r; dx++ {
						s += k.w[(dy+k.r)*side+dx+k.r] * float64(p[row+mirror(x+dx, m.W)])
					}
				}
				o[y*m.W+x] = q8(s)
			}
		}
	}
	return out
}

func savePNG(path string, m *degrade.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m.ToImage()); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
