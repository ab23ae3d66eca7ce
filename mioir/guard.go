package mioir

import (
	"fmt"
	"slices"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// Guard is the check the classifier's choice must pass before Restore uses
// it to pick an EP model's prompt (Options.Auto, or no Options.Task). When
// the check fails, Restore leaves the image as it is and says why in
// Info.Fallback. Options.Guard nil means DefaultGuard(); a zero Guard checks
// nothing and trusts the classifier, as the reference does.
//
// Only Risky choices are checked: a wrong prompt from the others costs
// little, while a wrong blur, rain, haze or low-light prompt can cost many
// dB (on held-out photos degraded by outside code, scripts/autoeval: the
// bundled model's haze prompt on a blurred or compressed image -26 to -36 dB,
// low light on a compressed dark scene -9 to -15, rain -4 to -7, blur on an
// x4-downscaled image -1.3; noise, JPEG and SR prompts cost at most 1.7 dB
// on any image).
type Guard struct {
	// Risky are the tasks that must pass the checks below.
	Risky []degrade.Task
	// MinProb is the least classifier probability of a risky choice.
	MinProb float32
	// MinAgree is how many of the image's four quadrants, each classified
	// alone, must choose the same task (0: not checked). A degradation is
	// spread over the whole image; a scene that merely looks like one (a
	// dark room, a sky) rarely fills all quadrants alike.
	MinAgree int
	// MinHazeDarkChannel is the least mean dark channel (the minimum over
	// the colour channels and a 15x15 patch, He et al.'s prior: near 0 in
	// clear daylight images, lifted by the airlight in hazy ones) for haze
	// (0: not checked). It refuses haze on dark or low-contrast images,
	// where the haze prompt darkens everything.
	MinHazeDarkChannel float32
	// MaxDarkMean is the largest mean luminance (0.299 R + 0.587 G +
	// 0.114 B, in [0, 1]) of an image the low-light prompt may brighten (0:
	// not checked). A low-light input is dark by definition; a mid-grey
	// photo the classifier takes for one (smooth, saturated close-ups) loses
	// 15-20 dB when brightened.
	MaxDarkMean float32
}

// DefaultGuard returns the guard Restore uses when Options.Guard is nil:
// blur, rain, haze and low light need probability 0.7 and three of four
// quadrants agreeing, haze a mean dark channel of at least 0.3, low light a
// mean luminance of at most 0.4 (scripts/autoeval measured these choices;
// README "Automatic task choice").
func DefaultGuard() *Guard {
	return &Guard{
		Risky:              []degrade.Task{degrade.Blur, degrade.Rain, degrade.Haze, degrade.LowLight},
		MinProb:            0.7,
		MinAgree:           3,
		MinHazeDarkChannel: 0.3,
		MaxDarkMean:        0.4,
	}
}

// Fallback says why Restore did not use the classifier's choice.
type Fallback struct {
	// Chosen is the classifier's choice that failed the guard.
	Chosen degrade.Task
	// Reason names the check that failed, with the measured value.
	Reason string
}

// guard checks the classifier's prediction p for x (1, 3, H, W) and returns
// nil when it may be used.
func (m *Model) guard(x *torch.Tensor, p prompt.Prediction, g *Guard) (*Fallback, error) {
	if g == nil {
		g = DefaultGuard()
	}
	t := p.Task
	if !slices.Contains(g.Risky, t) {
		return nil, nil
	}
	if prob := p.Probs[t.PromptIndex()]; prob < g.MinProb {
		return &Fallback{t, fmt.Sprintf("probability %.3f < %.3f", prob, g.MinProb)}, nil
	}
	if g.MinAgree > 0 {
		n, err := m.quadrantVotes(x, t)
		if err != nil {
			return nil, err
		}
		if n < g.MinAgree {
			return &Fallback{t, fmt.Sprintf("%d of 4 quadrants agree < %d", n, g.MinAgree)}, nil
		}
	}
	if t == degrade.Haze && g.MinHazeDarkChannel > 0 {
		dc, err := darkChannel(x)
		if err != nil {
			return nil, err
		}
		if dc < float64(g.MinHazeDarkChannel) {
			return &Fallback{t, fmt.Sprintf("mean dark channel %.3f < %.3f", dc, g.MinHazeDarkChannel)}, nil
		}
	}
	if t == degrade.LowLight && g.MaxDarkMean > 0 {
		lum, err := meanLuminance(x)
		if err != nil {
			return nil, err
		}
		if lum > float64(g.MaxDarkMean) {
			return &Fallback{t, fmt.Sprintf("mean luminance %.3f > %.3f", lum, g.MaxDarkMean)}, nil
		}
	}
	return nil, nil
}

// meanLuminance returns the mean of 0.299 R + 0.587 G + 0.114 B over x (1,
// 3, H, W): three channel sums, no image-sized temporary.
func meanLuminance(x *torch.Tensor) (float64, error) {
	lum := 0.0
	for c, w := range []float64{0.299, 0.587, 0.114} {
		s := torch.NewScope(torch.Inference)
		v, err := s.Use(x).Narrow(1, int64(c), 1).Sum(false).ToDType(torch.Float64).Item()
		s.Close()
		if err != nil {
			return 0, fmt.Errorf("mioir: restore: mean luminance: %w", err)
		}
		lum += w * v
	}
	return lum / float64(x.Numel()/3), nil
}

// quadrantVotes classifies the four quadrants of x and counts those that
// choose t. Quadrants smaller than the classifier's 9x9 block vote for
// nothing.
func (m *Model) quadrantVotes(x *torch.Tensor, t degrade.Task) (int, error) {
	h, w := x.Size(2), x.Size(3)
	qh, qw := h/2, w/2
	if qh < 9 || qw < 9 {
		return 0, nil
	}
	n := 0
	for _, o := range [][2]int64{{0, 0}, {0, qw}, {qh, 0}, {qh, qw}} {
		s := torch.NewScope(torch.Inference)
		q := s.Use(x).Narrow(2, o[0], qh).Narrow(3, o[1], qw)
		preds, err := m.cls.Classify(q)
		s.Close()
		if err != nil {
			return 0, fmt.Errorf("mioir: restore: classifier: %w", err)
		}
		if preds[0].Task == t {
			n++
		}
	}
	return n, nil
}

// darkChannel returns the mean over pixels of the minimum over the colour
// channels and the 15x15 patch around the pixel (the image border clipped).
// It pools strips of darkStripRows rows with their 7-row halos, so that a
// large photo needs the strip's memory, not three more image planes.
func darkChannel(x *torch.Tensor) (float64, error) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	lo := s.Use(x).Amin(true, 1) // (N, 1, H, W)
	h := lo.Size(2)
	sum := 0.0
	for y0 := int64(0); y0 < h; y0 += darkStripRows {
		y1 := min(h, y0+darkStripRows)
		a, b := max(0, y0-darkHalo), min(h, y1+darkHalo)
		c := s.Child(torch.Inference)
		// min-pool as max-pool of the negation; max-pool pads with -inf,
		// which clips the patch at the border, and the halo rows give the
		// strip's edge rows their whole patch.
		p := c.Use(lo).Narrow(2, a, b-a).Neg().
			MaxPool2d([2]int64{2*darkHalo + 1, 2*darkHalo + 1}, [2]int64{1, 1}, [2]int64{darkHalo, darkHalo}).
			Narrow(2, y0-a, y1-y0).Sum(false).ToDType(torch.Float64)
		v, err := p.Item()
		c.Close()
		if err != nil {
			return 0, fmt.Errorf("mioir: restore: dark channel: %w", err)
		}
		sum -= v
	}
	return sum / float64(lo.Numel()), nil
}

// The dark channel's patch half-side (15x15 patches) and strip height.
const (
	darkHalo      = 7
	darkStripRows = 256
)
