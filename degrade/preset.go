package degrade

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
)

// Range is a closed interval [Lo, Hi] for a uniform draw U(Lo, Hi).
type Range struct{ Lo, Hi float64 }

// IntRange is an inclusive integer interval, each value equally likely.
type IntRange struct{ Lo, Hi int }

// Preset holds the parameter distributions of one test group (method
// spec section 1.9). Draws round like the reference scripts: blur sigma,
// gamma, airlight and beta to 2 decimals, noise sigma and JPEG quality to
// integers (Python round, half to even).
type Preset struct {
	Name         string
	SRScale      int        // x4 in every reference group
	SRDown       Downscaler // DownTorch: the training resize_tensor
	KernelSizes  []int      // blur kernel sizes, each equally likely
	BlurSigma    Range      // round(U, 2)
	NoiseSigma   Range      // round(U), 0..255 scale
	JPEGQuality  Range      // round(U)
	JPEGCodec    bool       // use JPEGCodec (image/jpeg) instead of JPEGDiff
	RainWidths   []int      // each equally likely
	RainLength   IntRange   // inclusive
	RainAngle    IntRange   // inclusive, degrees
	RainValue    IntRange   // inclusive, density
	HazeAirlight Range      // round(U, 2)
	HazeBeta     Range      // round(U, 2)
	Gamma        Range      // round(U, 2)
}

// InDis returns the training / In-Dis test distributions of the reference
// (method spec 1.9): SR x4 torch bicubic; blur ks in {7,...,21},
// sigma U(1,3); noise sigma U(15,50); JPEG q U(30,70); rain width
// {3,5,7,9,11}, length 20..40, angle -45..44, value 50..99; haze A U(0.8,1),
// beta U(0.5,2.5); gamma U(1,3).
func InDis() Preset {
	return Preset{
		Name:         "indis",
		SRScale:      4,
		SRDown:       DownTorch,
		KernelSizes:  []int{7, 9, 11, 13, 15, 17, 19, 21},
		BlurSigma:    Range{1, 3},
		NoiseSigma:   Range{15, 50},
		JPEGQuality:  Range{30, 70},
		RainWidths:   []int{3, 5, 7, 9, 11},
		RainLength:   IntRange{20, 40},
		RainAngle:    IntRange{-45, 44},
		RainValue:    IntRange{50, 99},
		HazeAirlight: Range{0.8, 1.0},
		HazeBeta:     Range{0.5, 2.5},
		Gamma:        Range{1, 3},
	}
}

// Train returns the training distributions, which are the In-Dis ones.
func Train() Preset {
	p := InDis()
	p.Name = "train"
	return p
}

// OutDis returns the Out-Dis test distributions (the reference test
// script's commented alternatives): blur sigma U(3,5), noise sigma
// U(50,70), JPEG q U(10,30), rain value 100..149, haze beta U(2.5,3), gamma
// U(3,4); everything else as In-Dis. The reference does not reveal its
// Out-Dis SR degradation; SR stays x4 torch bicubic here.
func OutDis() Preset {
	p := InDis()
	p.Name = "outdis"
	p.BlurSigma = Range{3, 5}
	p.NoiseSigma = Range{50, 70}
	p.JPEGQuality = Range{10, 30}
	p.RainValue = IntRange{100, 149}
	p.HazeBeta = Range{2.5, 3.0}
	p.Gamma = Range{3, 4}
	return p
}

// PresetByName returns the preset named "train", "indis" (also "in-dis")
// or "outdis" (also "out-dis"), case-insensitively.
func PresetByName(name string) (Preset, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "train":
		return Train(), nil
	case "indis", "in-dis", "in_dis":
		return InDis(), nil
	case "outdis", "out-dis", "out_dis":
		return OutDis(), nil
	}
	return Preset{}, fmt.Errorf("degrade: unknown preset %q (want train, indis or outdis)", name)
}

// Params are the parameters of one degradation of one image, as drawn by
// a Sampler (and logged by examples/degrade). Only the fields of Task are
// set; JSON omits the rest.
type Params struct {
	Task       Task        `json:"task"`
	Scale      int         `json:"scale,omitempty"`       // SR factor
	Matlab     bool        `json:"matlab,omitempty"`      // SR: DownMatlab instead of DownTorch
	KernelSize int         `json:"kernel_size,omitempty"` // blur
	BlurSigma  float64     `json:"blur_sigma,omitempty"`  // blur
	NoiseSigma float64     `json:"noise_sigma,omitempty"` // noise, 0..255 scale
	Quality    int         `json:"quality,omitempty"`     // JPEG
	Codec      bool        `json:"codec,omitempty"`       // JPEG: JPEGCodec instead of JPEGDiff
	Rain       *RainParams `json:"rain,omitempty"`        // rain
	Airlight   float64     `json:"airlight,omitempty"`    // haze A
	Beta       float64     `json:"beta,omitempty"`        // haze
	Gamma      float64     `json:"gamma,omitempty"`       // low light
	Seed       uint64      `json:"seed,omitempty"`        // noise samples / rain seed map
}

// Apply runs the degradation described by p on src. depth is used by haze
// only (nil: PseudoDepth); see AddHaze for its accepted sizes. Rain and
// haze outputs are cropped to multiples of 4; the others keep src's size.
func Apply(src *Image, p Params, depth *DepthMap) (*Image, error) {
	switch p.Task {
	case SR:
		down := DownTorch
		if p.Matlab {
			down = DownMatlab
		}
		return SuperRes(src, p.Scale, down)
	case Blur:
		return GaussianBlur(src, p.KernelSize, p.BlurSigma)
	case Noise:
		return GaussianNoise(src, p.NoiseSigma, p.Seed)
	case JPEG:
		if p.Codec {
			return JPEGCodec(src, p.Quality)
		}
		return JPEGDiff(src, p.Quality)
	case Rain:
		if p.Rain == nil {
			return nil, fmt.Errorf("%w: rain without RainParams", ErrParam)
		}
		return AddRain(src, *p.Rain, p.Seed)
	case Haze:
		return AddHaze(src, depth, p.Airlight, p.Beta)
	case LowLight:
		return LowLightGamma(src, p.Gamma)
	}
	return nil, fmt.Errorf("%w: invalid task %d", ErrParam, int(p.Task))
}

// Sampler draws per-image parameters from a Preset. Draws are a pure
// function of (Seed, task, key): each call builds its own PCG stream from
// them, so the parameters of an image never depend on which other images
// were drawn before or on goroutine scheduling. Sampler is safe for
// concurrent use.
type Sampler struct {
	Preset Preset
	Seed   uint64
}

// NewSampler returns a sampler for preset p and a global seed.
func NewSampler(p Preset, seed uint64) *Sampler { return &Sampler{Preset: p, Seed: seed} }

// Key derives a stable per-image key from a name (FNV-1a 64 of the
// string), for use with Draw when images are identified by file name.
func Key(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// round2 is Python's round(x, 2) for the draws (half to even on x*100).
func round2(x float64) float64 { return math.RoundToEven(x*100) / 100 }

func (r Range) draw(rng *rand.Rand) float64 { return r.Lo + (r.Hi-r.Lo)*rng.Float64() }

func (r IntRange) draw(rng *rand.Rand) int { return r.Lo + rng.IntN(r.Hi-r.Lo+1) }

// Draw returns the parameters of task t for the image identified by key.
func (s *Sampler) Draw(t Task, key uint64) (Params, error) {
	if !t.Valid() {
		return Params{}, fmt.Errorf("%w: invalid task %d", ErrParam, int(t))
	}
	pr := &s.Preset
	rng := rand.New(rand.NewPCG(mix64(s.Seed), mix64(key^mix64(uint64(t)))))
	p := Params{Task: t}
	switch t {
	case SR:
		p.Scale = pr.SRScale
		if p.Scale == 0 {
			p.Scale = 4
		}
		p.Matlab = pr.SRDown == DownMatlab
	case Blur:
		if len(pr.KernelSizes) == 0 {
			return Params{}, fmt.Errorf("%w: preset %q has no blur kernel sizes", ErrParam, pr.Name)
		}
		p.KernelSize = pr.KernelSizes[rng.IntN(len(pr.KernelSizes))]
		p.BlurSigma = round2(pr.BlurSigma.draw(rng))
	case Noise:
		p.NoiseSigma = math.RoundToEven(pr.NoiseSigma.draw(rng))
		p.Seed = rng.Uint64()
	case JPEG:
		p.Quality = int(math.RoundToEven(pr.JPEGQuality.draw(rng)))
		p.Codec = pr.JPEGCodec
	case Rain:
		if len(pr.RainWidths) == 0 {
			return Params{}, fmt.Errorf("%w: preset %q has no rain widths", ErrParam, pr.Name)
		}
		p.Rain = &RainParams{
			Width:  pr.RainWidths[rng.IntN(len(pr.RainWidths))],
			Length: pr.RainLength.draw(rng),
			Angle:  pr.RainAngle.draw(rng),
			Value:  pr.RainValue.draw(rng),
		}
		p.Seed = rng.Uint64()
	case Haze:
		p.Airlight = round2(pr.HazeAirlight.draw(rng))
		p.Beta = round2(pr.HazeBeta.draw(rng))
	case LowLight:
		p.Gamma = round2(pr.Gamma.draw(rng))
	}
	return p, nil
}

// Degrade draws the parameters of task t for the image key and applies
// them to src, returning the degraded image and the parameters used.
func (s *Sampler) Degrade(src *Image, t Task, key uint64, depth *DepthMap) (*Image, Params, error) {
	p, err := s.Draw(t, key)
	if err != nil {
		return nil, p, err
	}
	out, err := Apply(src, p, depth)
	return out, p, err
}
