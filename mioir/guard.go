package mioir

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// Guard is the rule between the classifier and the prompt Restore uses
// when it picks an EP model's task itself (Options.Auto, or no
// Options.Task). The classifier sees 9x9-pixel blocks and is often wrong on
// photos degraded by other programs. The guard measures physical traces
// that do not depend on the program (the noise level, the JPEG grid, the
// period of an x4 upscale, the comb a darkening tone curve leaves in an
// 8-bit histogram, brightness, detail, the dark channel, rain streaks, how
// much a blur still changes the image). A trace model, fitted on all of
// them but the last at once and right far more often than the classifier
// on such photos, decides first where it is sure.
// Otherwise a clear trace of one degradation settles the task (the method
// restores one degradation per image), and failing that the guard checks
// the classifier's choice against the measurements and leaves the image as
// it is when they disagree.
// Info.Fallback says when and why the classifier's choice was not used.
// Options.Guard nil means DefaultGuard(); a zero Guard checks nothing and
// trusts the classifier, as the reference does.
//
// A wrong prompt from the noise, JPEG and SR tasks costs little; a wrong
// blur, rain, haze or low-light prompt can cost many dB (on held-out photos
// degraded by outside code, scripts/autoeval: the bundled model's haze or
// low-light prompt on a blurred or compressed image -10 to -36 dB, rain -4
// to -13, blur on an x4-downscaled image -1 to -3.5; noise, JPEG and SR
// prompts at most 1.8 dB on any image). So only the Risky choices must
// pass the classifier checks; a JPEG choice needs a trace of the grid.
type Guard struct {
	// Risky are the tasks that must pass the classifier checks below.
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
	// (0: not checked).
	MinHazeDarkChannel float32
	// MaxDarkMean is the largest mean brightness (the mean over pixels of
	// the largest colour channel, HSV's value, in [0, 1]) of an image the
	// classifier's low-light choice may brighten (0: not checked). A
	// low-light input is dark by definition; a saturated red or a mid-grey
	// close-up that the classifier takes for one loses 10-20 dB when
	// brightened. Brightness, not luminance: pure red has luminance 0.3 but
	// is not dark. The trace model's choice is not held to it: a gamma of
	// 1.6 leaves bright photos at 0.6-0.85, and on the training crops the
	// trace model, sure at 0.7, took no crop brighter than 0.1 for low
	// light that was not darkened.
	MaxDarkMean float32

	// NoiseSigma selects the noise prompt, whatever the classifier chose,
	// when the estimated noise standard deviation (0-1 units; the 10th
	// percentile over 16x16-pixel blocks of the RMS of the luminance's
	// finest diagonal Haar coefficients, which texture does not lift) is at
	// least this (0: not used). Independent noise of sigma s in each colour
	// channel reads about 0.59 s in the luminance. MinNoiseSigma is the
	// least estimate for which the classifier's own noise choice is kept
	// (0: not checked).
	NoiseSigma, MinNoiseSigma float32
	// JPEGBlockiness selects the JPEG prompt, whatever the classifier
	// chose, from this blockiness on (0: not used): the mean luminance
	// change across the strongest phase of the 8-pixel grid over the
	// median phase's plus 1/255, at most about 1 without JPEG.
	// MinJPEGBlockiness refuses the classifier's own JPEG choice under
	// this blockiness (0: not checked): a JPEG image keeps at least a
	// trace of its grid, while blurred and smooth images, which the
	// classifier also takes for JPEG, read under 1 and lose up to 0.8 dB
	// to the JPEG prompt.
	JPEGBlockiness, MinJPEGBlockiness float32
	// UpscaleTrace selects the SR prompt from this x4-upscale trace on (0:
	// not used), when the grid asymmetry is at most MaxUpscaleAsymmetry.
	// The trace is the luminance's second difference on the best two
	// neighbouring positions modulo 4 over the other two (an interpolation
	// kernel sampled at four fixed offsets leaves it), the smaller of the
	// two axes; the asymmetry is how differently the first difference
	// behaves at positions p and p+4 modulo 8, high on a JPEG grid (period
	// 8) and low on an upscale (period 4).
	UpscaleTrace, MaxUpscaleAsymmetry float32
	// MaxBlurUpscaleTrace refuses a blur choice from this x4-upscale trace
	// on (0: not checked). Blur leaves no period of 4 (the trace stays
	// under 1), while the blur prompt on an x4 upscale, which the
	// classifier takes for blur and whose trace is often too weak to
	// choose SR, costs up to 3.5 dB.
	MaxBlurUpscaleTrace float32
	// MinUpscaleFit refuses a blur or haze choice, the classifier's or
	// the trace model's, when the input fits an x4 bicubic enlargement
	// better than this (Traces.UpscaleFit under it; 0: not checked). On
	// the training crops, blurred images read 0.82-1 (all but 2 of 411
	// from 0.85) and hazy ones 0.88-1, however smooth; x4 upscales read
	// 0.04-0.35 with some texture and up to 0.83 almost flat (near-black
	// crops, whose 8-bit rounding hides the fit, read higher). The blur
	// prompt costs 1-4 dB on an upscale, the haze prompt up to 36 dB.
	MinUpscaleFit float32
	// MinReblur refuses a blur choice, the classifier's or the trace
	// model's, when a Gaussian blur of 1.5 pixels changes the input by less
	// than this (Traces.Reblur, RMS in 0-1 units; 0: not checked). The
	// 8-bit rounding alone reads about 0.27/255; an image that changes less
	// (a sky, a gradient) holds no detail a blur could have taken, and the
	// blur prompt moves it by fractions of a level, as often away from the
	// truth as towards it.
	MinReblur float32
	// UnderexposedMean selects the low-light prompt when the mean
	// brightness is at most this (0: not used): an image that dark is
	// underexposed whatever its scene.
	UnderexposedMean float32
	// DarkToneCurve selects the low-light prompt, whatever the classifier
	// chose, on an 8-bit input with no JPEG grid or upscale trace that
	// selects a task, when its histogram's comb correlates with that of a
	// darkening tone curve at least as much as the first step whose
	// MaxMean the input's mean brightness does not exceed asks (nil: not
	// used). The method's low-light degradation is such a curve (x^gamma on
	// 8-bit values, quantised again), and so is an exposure factor;
	// photos, noise, blur and upscales have smooth histograms, JPEG spiky
	// ones that no curve explains. A photo that its author tone-mapped in
	// 8 bits keeps a comb, even through JPEG compression too mild to leave
	// a grid, so brighter images need a stronger comb. The comb precedes
	// the noise trace: noise added after the curve would have filled it, so
	// noise measured on a combed image is the source's.
	DarkToneCurve []ToneCurveStep
	// MinDetail refuses the classifier's low-light, haze or rain choice
	// (not the trace model's) when the input's finest detail (the mean
	// diagonal Haar coefficient over the mean first-order one, per 2x2
	// cell: near 1 for noise, 0.2-0.7 for sharp photos, lower after blur
	// or upscaling) is under this (0: not checked): on smooth images the
	// classifier confuses these with blur.
	MinDetail float32
	// HazeDarkMean turns a haze choice that passed MinProb and MinAgree
	// into low light when the mean brightness is at most this (0: not
	// used). Airlight brightens; a flat image that is also dark is
	// underexposed, not hazy.
	HazeDarkMean float32
	// MinRainStreaks refuses a rain choice when fewer than this share of
	// the input's 48-pixel windows show bright lines along its dominant
	// direction (0: not checked). Rain streaks are bright, thin and
	// parallel everywhere; the textures and architecture the classifier
	// takes for rain have bright and dark lines alike, or bright lines in
	// places. Parallel lines across a whole scene read as high, so the
	// trace never chooses rain by itself. An image under 68 pixels a side
	// has no whole window and reads 0.
	MinRainStreaks float32

	// TraceModel, when set, decides first: it reads all the traces above
	// at once (mioir.TraceModel) and is right far more often than the
	// classifier on photos degraded by other programs. If its most
	// probable task is one of TraceTasks, with a probability of at least
	// MinTraceProb (or that task's TraceProb), and passes the measured
	// checks that task's own choice would have to (the noise level, the
	// grid, the x4 fit, the dark channel, rain streaks; not MinDetail and
	// MaxDarkMean), Restore uses it. Otherwise the traces that settle a
	// task by themselves (noise, the JPEG grid, the x4 period, the
	// tone-curve comb, underexposure) decide as without a trace model;
	// then, if its most probable task is not one of TraceTasks, only the
	// classifier's choice of that same task, through the checks below, is
	// used, and otherwise the image is left as it is. When it is merely
	// unsure, the classifier's choice goes through the checks as without a
	// trace model. It does not read the classifier, so it holds for any
	// model.
	//
	// TraceProb overrides MinTraceProb for the tasks it names. The
	// default asks 0.8 for blur, 0.5 for haze and 0.6 for low light (README
	// "Automatic task choice" gives what each costs and brings on the
	// held-out sets and the training crops).
	TraceModel   *TraceModel
	TraceTasks   []degrade.Task
	MinTraceProb float32
	TraceProb    map[degrade.Task]float32
}

// traceThreshold is the least probability at which the trace model may
// choose t.
func (g *Guard) traceThreshold(t degrade.Task) float64 {
	if v, ok := g.TraceProb[t]; ok {
		return float64(v)
	}
	return float64(g.MinTraceProb)
}

// ToneCurveStep is one step of Guard.DarkToneCurve: a comb of at least
// MinComb selects low light on an image whose mean brightness is at most
// MaxMean and, when MaxBlockiness is set, whose JPEG blockiness is under
// it (no trace of a grid at all: a comb that survived JPEG is the
// source's).
type ToneCurveStep struct {
	MaxMean, MinComb, MaxBlockiness float32
}

// DefaultGuard returns the guard Restore uses when Options.Guard is nil:
// first the trace model (DefaultTraceModel) chooses any task, from a
// probability of 0.8 for blur, 0.5 for haze, 0.6 for low light and 0.7
// for the others, through the measured checks below; then
// noise from an estimated sigma of 6/255 and only then (the classifier's
// noise choice on a cleaner image costs up to 1.8 dB and gains little),
// JPEG from a blockiness of 1.15 and only from 1 (the strongest grid
// phase at least the median's plus 1/255), SR from an x4-upscale trace of
// 1.3 with a grid asymmetry of at most 0.2, low light at a mean brightness
// of at most 0.1 or from a tone-curve comb of 0.8 at a mean brightness of
// at most 0.45, of 0.9 at most 0.6 and of 0.95 at most 0.8 with no trace
// of a JPEG grid (blockiness under 1), all before the noise trace;
// otherwise blur, rain, haze and low light need probability 0.7 and three
// of four quadrants agreeing, blur an x4-upscale trace under 1, blur and
// haze an x4 fit of at least 0.85, blur a change of 0.25/255 under a
// Gaussian blur of 1.5 pixels, low light,
// haze and rain a detail of 0.2, rain bright parallel lines in a fifth of
// the windows, haze a mean dark channel of 0.3 (at a mean brightness of
// at most 0.35 it is taken for low light), low light a mean brightness of
// at most 0.45. scripts/autoeval measured these choices (README
// "Automatic task choice").
func DefaultGuard() *Guard {
	return &Guard{
		Risky:               []degrade.Task{degrade.Blur, degrade.Rain, degrade.Haze, degrade.LowLight},
		MinProb:             0.7,
		MinAgree:            3,
		MinHazeDarkChannel:  0.3,
		MaxDarkMean:         0.45,
		NoiseSigma:          6.0 / 255,
		MinNoiseSigma:       6.0 / 255,
		JPEGBlockiness:      1.15,
		MinJPEGBlockiness:   1.0,
		UpscaleTrace:        1.3,
		MaxUpscaleAsymmetry: 0.2,
		MaxBlurUpscaleTrace: 1.0,
		MinUpscaleFit:       0.85,
		MinReblur:           0.25 / 255,
		UnderexposedMean:    0.1,
		DarkToneCurve: []ToneCurveStep{
			{MaxMean: 0.45, MinComb: 0.8},
			{MaxMean: 0.6, MinComb: 0.9},
			{MaxMean: 0.8, MinComb: 0.95, MaxBlockiness: 1},
		},
		MinDetail:      0.2,
		HazeDarkMean:   0.35,
		MinRainStreaks: 0.2,
		TraceModel:     DefaultTraceModel(),
		TraceTasks:     degrade.AllTasks(),
		MinTraceProb:   0.7,
		TraceProb:      map[degrade.Task]float32{degrade.Blur: 0.8, degrade.Haze: 0.5, degrade.LowLight: 0.6},
	}
}

// Fallback says why Restore did not use the classifier's choice.
type Fallback struct {
	// Chosen is the classifier's choice that was not used.
	Chosen degrade.Task
	// Reason names the measurement that decided, with its value.
	Reason string
	// Use is the task the measurements point to instead; zero when they
	// point to none, and Restore then uses Options.Task or returns the
	// input unchanged.
	Use degrade.Task
}

// guard checks the classifier's prediction p for x (1, 3, H, W) and returns
// nil when it may be used.
func (m *Model) guard(x *torch.Tensor, p prompt.Prediction, g *Guard) (*Fallback, error) {
	if g == nil {
		g = DefaultGuard()
	}
	var tr Traces
	if g.measures() {
		v, err := measureTraces(x) // Restore checked x: float32 and finite
		if err != nil {
			return nil, err
		}
		tr = *v
	}
	return g.Decide(p, &tr, func(t degrade.Task) (int, error) { return m.quadrantVotes(x, t) })
}

// Decide is the guard's decision on an input from what was measured on it:
// the classifier's prediction p, the traces tr (MeasureTraces; unread when
// g reads none) and votes(t), in how many of the input's four quadrants
// the classifier's first choice is t (0 when a quadrant is under 9 pixels
// a side; called only when MinAgree asks). It returns nil when the
// classifier's choice may be used, else the Fallback Restore reports. Restore
// decides through it; a program can replay recorded measurements under
// another guard or trace model without the model or the image
// (scripts/autoeval -report with -trace-model). A nil g is DefaultGuard.
func (g *Guard) Decide(p prompt.Prediction, tr *Traces, votes func(degrade.Task) (int, error)) (*Fallback, error) {
	if g == nil {
		g = DefaultGuard()
	}
	if tr == nil {
		return nil, errors.New("mioir: guard: no traces")
	}
	t := p.Task
	// use reports the measurements' own choice u (nil when it is the
	// classifier's); refuse leaves the input.
	use := func(u degrade.Task, format string, args ...any) *Fallback {
		if u == t {
			return nil
		}
		return &Fallback{Chosen: t, Reason: fmt.Sprintf(format, args...), Use: u}
	}
	refuse := func(format string, args ...any) *Fallback {
		return &Fallback{Chosen: t, Reason: fmt.Sprintf(format, args...)}
	}
	bright := tr.MeanBrightness
	hazeDark := func(u degrade.Task) bool { return u == degrade.Haze && g.flatAndDark(bright) }
	// The trace model reads every trace the rules below read, and more
	// together: where it is sure it decides first.
	var top degrade.Task
	var topProb float64
	if g.TraceModel != nil {
		var err error
		if top, topProb, err = g.TraceModel.Choose(tr); err != nil {
			return nil, err
		}
		if least := g.traceThreshold(top); slices.Contains(g.TraceTasks, top) && topProb >= least && g.measuredRefusal(top, tr) == "" {
			if hazeDark(top) {
				return use(degrade.LowLight, "trace model: haze %.2f >= %.2f; flat and dark: mean brightness %.3f <= %.3f",
					topProb, least, bright, g.HazeDarkMean), nil
			}
			return use(top, "trace model: %s %.2f >= %.2f", top, topProb, least), nil
		}
	}
	jpegGrid := g.JPEGBlockiness > 0 && tr.JPEGBlockiness >= float64(g.JPEGBlockiness)
	upscaled := g.UpscaleTrace > 0 && tr.UpscaleTrace >= float64(g.UpscaleTrace) && tr.GridAsymmetry <= float64(g.MaxUpscaleAsymmetry)
	// A tone curve's comb survives only if nothing came after the curve:
	// added noise fills it, so the noise measured on a combed image is the
	// source's own and the comb decides first. A JPEG grid or an upscale
	// can keep a comb that the source already had, so they decide before it.
	if i := slices.IndexFunc(g.DarkToneCurve, func(st ToneCurveStep) bool { return bright <= float64(st.MaxMean) }); i >= 0 && !jpegGrid && !upscaled {
		v := tr.ToneCurveComb
		if st := g.DarkToneCurve[i]; v >= float64(st.MinComb) && (st.MaxBlockiness == 0 || tr.JPEGBlockiness < float64(st.MaxBlockiness)) {
			return use(degrade.LowLight, "tone curve comb %.2f >= %.2f, mean brightness %.3f <= %.3f",
				v, st.MinComb, bright, st.MaxMean), nil
		}
	}
	switch {
	case g.NoiseSigma > 0 && tr.NoiseSigma >= float64(g.NoiseSigma):
		return use(degrade.Noise, "noise sigma %.1f/255 >= %.1f/255", 255*tr.NoiseSigma, 255*g.NoiseSigma), nil
	case jpegGrid:
		return use(degrade.JPEG, "JPEG blockiness %.2f >= %.2f", tr.JPEGBlockiness, g.JPEGBlockiness), nil
	case upscaled:
		return use(degrade.SR, "x4 upscale trace %.2f >= %.2f, grid asymmetry %.2f <= %.2f",
			tr.UpscaleTrace, g.UpscaleTrace, tr.GridAsymmetry, g.MaxUpscaleAsymmetry), nil
	case g.UnderexposedMean > 0 && bright <= float64(g.UnderexposedMean):
		return use(degrade.LowLight, "mean brightness %.3f <= %.3f", bright, g.UnderexposedMean), nil
	}
	if top != 0 && !slices.Contains(g.TraceTasks, top) && top != t {
		return refuse("trace model: %s %.2f, which only the classifier's own choice may confirm", top, topProb), nil
	}
	if why := g.measuredRefusal(t, tr); why != "" && (t == degrade.Noise || t == degrade.JPEG || slices.Contains(g.Risky, t)) {
		return refuse("%s", why), nil
	}
	if !slices.Contains(g.Risky, t) {
		return nil, nil
	}
	if g.MinDetail > 0 && tr.Detail < float64(g.MinDetail) && (t == degrade.LowLight || t == degrade.Haze || t == degrade.Rain) {
		return refuse("detail %.3f < %.3f", tr.Detail, g.MinDetail), nil
	}
	if prob := p.Probs[t.PromptIndex()]; prob < g.MinProb {
		return refuse("probability %.3f < %.3f", prob, g.MinProb), nil
	}
	if g.MinAgree > 0 {
		if votes == nil {
			return nil, errors.New("mioir: guard: MinAgree needs the quadrants' votes")
		}
		n, err := votes(t)
		if err != nil {
			return nil, err
		}
		if n < g.MinAgree {
			return refuse("%d of 4 quadrants agree < %d", n, g.MinAgree), nil
		}
	}
	if hazeDark(t) {
		return use(degrade.LowLight, "flat and dark: mean brightness %.3f <= %.3f", bright, g.HazeDarkMean), nil
	}
	if t == degrade.LowLight && g.MaxDarkMean > 0 && bright > float64(g.MaxDarkMean) {
		return refuse("mean brightness %.3f > %.3f", bright, g.MaxDarkMean), nil
	}
	return nil, nil
}

// flatAndDark reports whether a haze choice on an image of mean brightness
// bright is taken for low light (Guard.HazeDarkMean): airlight brightens,
// and a flat image that is also dark is underexposed, not hazy.
func (g *Guard) flatAndDark(bright float64) bool {
	return g.HazeDarkMean > 0 && bright <= float64(g.HazeDarkMean)
}

// measures reports whether g reads any trace of the input.
func (g *Guard) measures() bool {
	return g.NoiseSigma > 0 || g.MinNoiseSigma > 0 || g.JPEGBlockiness > 0 || g.MinJPEGBlockiness > 0 ||
		g.UpscaleTrace > 0 || g.MaxBlurUpscaleTrace > 0 || g.MinUpscaleFit > 0 || g.MinReblur > 0 || g.MinDetail > 0 || len(g.DarkToneCurve) > 0 ||
		g.UnderexposedMean > 0 || g.HazeDarkMean > 0 || g.MaxDarkMean > 0 || g.MinHazeDarkChannel > 0 ||
		g.MinRainStreaks > 0 || g.TraceModel != nil
}

// measuredRefusal returns why g's checks on the measurements tr refuse
// task t ("" when they do not): those that do not read the classifier.
// Haze on a flat, dark image (Guard.HazeDarkMean) is low light and needs
// no dark channel. MinDetail and MaxDarkMean are not among them: they stop
// the classifier's mistakes (smooth images taken for low light, haze or
// rain; saturated or mid-grey scenes taken for low light), which the trace
// model, reading detail and brightness itself, does not make: on its
// training crops, its sure low-light and rain choices on images with a
// detail under 0.2 (37) were all right, and it took darkened photos up to
// a mean brightness of 0.85 for what they are.
func (g *Guard) measuredRefusal(t degrade.Task, tr *Traces) string {
	switch {
	case t == degrade.Noise && g.MinNoiseSigma > 0 && tr.NoiseSigma >= 0 && tr.NoiseSigma < float64(g.MinNoiseSigma):
		return fmt.Sprintf("noise sigma %.1f/255 < %.1f/255", 255*tr.NoiseSigma, 255*g.MinNoiseSigma)
	case t == degrade.JPEG && g.MinJPEGBlockiness > 0 && tr.JPEGBlockiness < float64(g.MinJPEGBlockiness):
		return fmt.Sprintf("JPEG blockiness %.2f < %.2f", tr.JPEGBlockiness, g.MinJPEGBlockiness)
	case t == degrade.Blur && g.MaxBlurUpscaleTrace > 0 && tr.UpscaleTrace >= float64(g.MaxBlurUpscaleTrace):
		return fmt.Sprintf("x4 upscale trace %.2f >= %.2f", tr.UpscaleTrace, g.MaxBlurUpscaleTrace)
	case t == degrade.Blur && g.UnderexposedMean > 0 && tr.MeanBrightness <= float64(g.UnderexposedMean):
		// A flat black image reads as blur to the trace model.
		return fmt.Sprintf("mean brightness %.3f <= %.3f: underexposed, not blurred", tr.MeanBrightness, g.UnderexposedMean)
	case t == degrade.Blur && g.MinReblur > 0 && tr.Reblur < float64(g.MinReblur):
		return fmt.Sprintf("a blur changes it by %.3f/255 < %.3f/255: nothing a blur took", 255*tr.Reblur, 255*g.MinReblur)
	case (t == degrade.Blur || t == degrade.Haze) && g.MinUpscaleFit > 0 && tr.UpscaleFit < float64(g.MinUpscaleFit):
		return fmt.Sprintf("x4 upscale fit %.2f < %.2f", tr.UpscaleFit, g.MinUpscaleFit)
	case t == degrade.Haze && g.MinHazeDarkChannel > 0 && tr.DarkChannel < float64(g.MinHazeDarkChannel) && !g.flatAndDark(tr.MeanBrightness):
		return fmt.Sprintf("mean dark channel %.3f < %.3f", tr.DarkChannel, g.MinHazeDarkChannel)
	case t == degrade.Rain && g.MinRainStreaks > 0 && tr.RainStreaks < float64(g.MinRainStreaks):
		return fmt.Sprintf("rain streaks in %.2f of the windows < %.2f", tr.RainStreaks, g.MinRainStreaks)
	}
	return ""
}

// meanBrightness returns the mean over x's (1, 3, H, W) pixels of the
// largest colour channel.
func meanBrightness(x *torch.Tensor) (float64, error) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	v, err := s.Use(x).Amax(false, 1).Sum(false).ToDType(torch.Float64).Item()
	if err != nil {
		return 0, fmt.Errorf("mioir: restore: mean brightness: %w", err)
	}
	return v / float64(x.Numel()/3), nil
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
		// strip's edge rows their whole patch. A box's maximum is the
		// maximum of its columns' maxima: a 15x1 then a 1x15 pool, exact,
		// compare 30 values per pixel instead of 225.
		p := c.Use(lo).Narrow(2, a, b-a).Neg().
			MaxPool2d([2]int64{2*darkHalo + 1, 1}, [2]int64{1, 1}, [2]int64{darkHalo, 0}).
			MaxPool2d([2]int64{1, 2*darkHalo + 1}, [2]int64{1, 1}, [2]int64{0, darkHalo}).
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
