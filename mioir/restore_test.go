package mioir

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// smallConfigs are seeded models small enough for 512x512 tests on 2 cores,
// with PyTorch's default init (Prompted) so that outputs differ from inputs.
var smallConfigs = map[string]Config{
	"SRResNet_AP": {Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 16, Blocks: 4}, Prompt: prompt.Adaptive},
	"SwinIR_AP": {Arch: "SwinIR", Net: nets.SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{3}, ImgSize: 16},
		Prompt: prompt.Adaptive},
}

func randInput(t testing.TB, s *torch.Scope, h, w int64, seed uint64) *torch.Tensor {
	g, err := torch.NewGenerator(seed)
	require.NoError(t, err)
	defer g.Close()
	x, err := g.Rand(s, []int64{1, 3, h, w}, nil)
	require.NoError(t, err)
	return x
}

func restoreSlice(t testing.TB, m *Model, x *torch.Tensor, o *Options) ([]float32, *Info) {
	t.Helper()
	y, info, err := m.RestoreTensor(context.Background(), x, o)
	require.NoError(t, err)
	defer y.Close()
	v, err := torch.ToSlice[float32](y)
	require.NoError(t, err)
	return v, info
}

// TestTiledEqualsUntiled: a 512x512 input restored in overlapping tiles
// equals the one-pass result within 1e-3 (max abs).
func TestTiledEqualsUntiled(t *testing.T) {
	for _, name := range []string{"SRResNet_AP", "SwinIR_AP"} {
		t.Run(name, func(t *testing.T) {
			live := torch.LiveTensors()
			m, err := New(smallConfigs[name], 1)
			require.NoError(t, err)
			defer m.Close()
			s := torch.NewScope(torch.Inference)
			defer s.Close()
			// SwinIR's full-size attention mask makes 512x512 slow on 2
			// cores: 256x256 shows the same tile seams.
			side := map[string]int64{"SRResNet_AP": 512, "SwinIR_AP": 256}[name]
			x := randInput(t, s, side, side, 7)
			whole, info := restoreSlice(t, m, x, nil)
			require.Equal(t, 1, info.Tiles)
			in, err := torch.ToSlice[float32](x)
			require.NoError(t, err)
			_, change := testutil.RelL2(whole, in)
			tiled, info := restoreSlice(t, m, x, &Options{Tile: int(side * 3 / 8), Overlap: 32})
			require.GreaterOrEqual(t, info.Tiles, 9)
			r, maxAbs := testutil.RelL2(tiled, whole)
			t.Logf("%s %dx%[2]d, tiles %d overlap 32: max |tiled-untiled| %.3g, rel L2 %.3g (network changes the input by up to %.3g)",
				name, side, side*3/8, maxAbs, r, change)
			require.Greater(t, change, 0.05, "the network must do something for the test to mean anything")
			require.LessOrEqual(t, maxAbs, 1e-3)
			s.Close()
			m.Close()
			require.Equal(t, live, torch.LiveTensors())
		})
	}
}

// TestOOMBackoff injects out-of-memory errors for tiles larger than 128
// pixels: Restore retries with smaller tiles and gives the tiled result.
func TestOOMBackoff(t *testing.T) {
	m, err := New(smallConfigs["SRResNet_AP"], 2)
	require.NoError(t, err)
	defer m.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x := randInput(t, s, 300, 200, 3)
	want, _ := restoreSlice(t, m, x, &Options{Tile: 128, Overlap: 16})
	m.failTile = func(h, w int64) error {
		if max(h, w) > 128 {
			return fmt.Errorf("tile %dx%d: %w", w, h, torch.ErrOutOfMemory)
		}
		return nil
	}
	defer func() { m.failTile = nil }()
	got, info := restoreSlice(t, m, x, &Options{Overlap: 16})
	require.Equal(t, 2, info.Retries) // whole (300) -> 150 -> 75
	require.LessOrEqual(t, info.Tile, 128)
	require.Greater(t, info.Tiles, 1)
	_, maxAbs := testutil.RelL2(got, want)
	require.LessOrEqual(t, maxAbs, 1e-3)

	// Below MinTile it gives up with an error that still matches.
	m.failTile = func(int64, int64) error { return torch.ErrOutOfMemory }
	_, _, err = m.RestoreTensor(context.Background(), x, &Options{Tile: 128})
	require.ErrorIs(t, err, torch.ErrOutOfMemory)
	require.ErrorContains(t, err, "smallest allowed 64")
}

// TestRestorePadding: the SwinIR path reflect-pads to the window at the
// bottom/right (the AP prompt is computed on the padded image) and crops.
func TestRestorePadding(t *testing.T) {
	m, err := New(smallConfigs["SwinIR_AP"], 3)
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, nets.PadRule{Multiple: 8}, m.PadRule())
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x := randInput(t, s, 37, 50, 5)
	got, _ := restoreSlice(t, m, x, nil)
	xp := x.Pad([]int64{0, 6, 0, 3}, torch.PadReflect, 0)
	y, err := m.Forward(xp, xp)
	require.NoError(t, err)
	want, err := torch.ToSlice[float32](y.Narrow(2, 0, 37).Narrow(3, 0, 50).Contiguous())
	require.NoError(t, err)
	require.Len(t, got, len(want))
	_, maxAbs := testutil.RelL2(got, want)
	require.LessOrEqual(t, maxAbs, 1e-6)

	// Inputs smaller than the window pad in steps.
	tiny := randInput(t, s, 3, 5, 6)
	v, _ := restoreSlice(t, m, tiny, nil)
	require.Len(t, v, 3*3*5)
	one := randInput(t, s, 1, 1, 6)
	v, _ = restoreSlice(t, m, one, nil)
	require.Len(t, v, 3)

	// The Uformer rule: multiple of 128, then square, cropped back.
	xp2, top, left := padInput(randInput(t, s, 130, 300, 1), nets.PadRule{Multiple: 128, Square: true})
	require.Equal(t, []int64{1, 3, 384, 384}, xp2.Shape())
	require.Equal(t, int64(64), top)
	require.Equal(t, int64(0), left)
}

// TestRestoreEPParity: an imported SwinIR_EP / SRResNet_EP restores the
// fixture input with the noise task's map (row 1 of type7.npy, the fixture's
// prompt) to the reference output.
func TestRestoreEPParity(t *testing.T) {
	for _, name := range []string{"SRResNet_EP", "SwinIR_EP"} {
		t.Run(name, func(t *testing.T) {
			m, err := Import(fixtures.Path(t, "models", name+".pth"),
				&ImportOptions{Maps: fixtures.Path(t, "models", "type7.npy")})
			require.NoError(t, err)
			defer m.Close()
			in, shape := testutil.ReadNpy(t, name+".in.npy")
			want, _ := testutil.ReadNpy(t, name+".out.npy")
			x, err := torch.FromSlice(nil, in, shape...)
			require.NoError(t, err)
			defer x.Close()
			got, info := restoreSlice(t, m, x, &Options{Task: degrade.Noise})
			require.Equal(t, degrade.Noise, info.Task)
			require.False(t, info.Auto)
			r, maxAbs := testutil.RelL2(got, want)
			t.Logf("%s through Restore (task noise): rel L2 %.3g, max abs %.3g", name, r, maxAbs)
			require.LessOrEqual(t, r, 1e-5)
		})
	}
}

// TestRestoreAuto: with the reference classifier attached, an EP model's
// task comes from the classifier on the full image, with the reference's
// probabilities and tie-break.
func TestRestoreAuto(t *testing.T) {
	m, err := Import(fixtures.Path(t, "models", "SRResNet_EP.pth"), &ImportOptions{
		Maps:       fixtures.Path(t, "models", "type7.npy"),
		Classifier: fixtures.Path(t, "models", "Classifier.pth"),
	})
	require.NoError(t, err)
	defer m.Close()
	require.True(t, m.Config().Classifier)
	in, shape := testutil.ReadNpy(t, "Classifier.in.npy")
	probs, _ := testutil.ReadNpy(t, "Classifier.out.npy")
	x, err := torch.FromSlice(nil, in, shape...)
	require.NoError(t, err)
	defer x.Close()
	_, info := restoreSlice(t, m, x, nil)
	require.True(t, info.Auto)
	r, _ := testutil.RelL2(info.Probs, probs)
	require.LessOrEqual(t, r, 1e-5)
	idx, err := prompt.SelectIndex(probs)
	require.NoError(t, err)
	require.Equal(t, idx, info.Task.PromptIndex())

	// The classifier's choice equals restoring with that task explicitly.
	a, _ := restoreSlice(t, m, x, &Options{Auto: true, Task: degrade.Rain})
	b, _ := restoreSlice(t, m, x, &Options{Task: info.Task})
	require.Equal(t, b, a)
}

// TestRestoreLoopFreesTensors: repeated restores (tiled and untiled, EP with
// classifier and AP) leave no tensor behind.
func TestRestoreLoopFreesTensors(t *testing.T) {
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 2},
		Prompt: prompt.Explicit, Classifier: true}, 4)
	require.NoError(t, err)
	defer m.Close()
	img := testImage(40, 33, 1)
	live := torch.LiveTensors()
	for i := range 6 {
		o := &Options{Tile: 16 * (i % 2), Overlap: 4}
		if i%3 == 0 {
			o.Task = degrade.Haze
		}
		out, info, err := m.Restore(context.Background(), img, o)
		require.NoError(t, err)
		require.Equal(t, img.Bounds().Size(), out.Bounds().Size())
		require.Equal(t, o.Task == 0, info.Auto)
	}
	require.Equal(t, live, torch.LiveTensors())
}

func testImage(w, h int, seed uint64) *image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(r.UintN(256)), uint8(r.UintN(256)), uint8((x + y) % 256), 255})
		}
	}
	return img
}

// TestRestoreConcurrent restores from several goroutines at once (run with
// -race): every result equals the sequential one.
func TestRestoreConcurrent(t *testing.T) {
	for _, name := range []string{"SRResNet_AP", "SwinIR_AP"} {
		t.Run(name, func(t *testing.T) {
			m, err := New(smallConfigs[name], 5)
			require.NoError(t, err)
			defer m.Close()
			imgs := []*image.NRGBA{testImage(48, 40, 1), testImage(33, 57, 2), testImage(64, 64, 3)}
			want := make([]*image.NRGBA, len(imgs))
			for i, img := range imgs {
				want[i], _, err = m.Restore(context.Background(), img, &Options{Tile: 32 * (i % 2), Overlap: 8})
				require.NoError(t, err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 12)
			for g := range 6 {
				wg.Go(func() {
					for k := range 2 {
						i := (g + k) % len(imgs)
						out, _, err := m.Restore(context.Background(), imgs[i], &Options{Tile: 32 * (i % 2), Overlap: 8})
						if err == nil && string(out.Pix) != string(want[i].Pix) {
							err = fmt.Errorf("goroutine %d image %d differs", g, i)
						}
						if err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestRestoreBadInputs(t *testing.T) {
	m, err := New(smallConfigs["SRResNet_AP"], 6)
	require.NoError(t, err)
	defer m.Close()
	_, _, err = m.Restore(context.Background(), image.NewNRGBA(image.Rect(0, 0, 0, 5)), nil)
	require.ErrorContains(t, err, "empty image")
	_, _, err = m.Restore(context.Background(), nil, nil)
	require.ErrorContains(t, err, "nil image")
	_, _, err = m.Restore(context.Background(), testImage(100, 100, 1), &Options{MaxPixels: 5000})
	require.ErrorContains(t, err, "more than 5000 pixels")
	// A huge image is refused before any allocation: a 1x1 image whose
	// bounds claim 100000 x 100000.
	_, _, err = m.Restore(context.Background(), &image.Uniform{C: color.White}, nil)
	require.ErrorContains(t, err, "pixels")

	nan, err := torch.FromSlice(nil, []float32{0, float32(math.NaN()), 0.5, float32(math.Inf(1)), 0, 0}, 1, 3, 1, 2)
	require.NoError(t, err)
	defer nan.Close()
	_, _, err = m.RestoreTensor(context.Background(), nan, nil)
	require.ErrorContains(t, err, "2 NaN or infinite values")
	bad, err := torch.FromSlice(nil, make([]float32, 8), 2, 1, 2, 2)
	require.NoError(t, err)
	defer bad.Close()
	_, _, err = m.RestoreTensor(context.Background(), bad, nil)
	require.ErrorContains(t, err, "want (1, 3, H, W)")
	_, _, err = m.RestoreTensor(context.Background(), bad, &Options{Task: degrade.Task(42)})
	require.Error(t, err)

	// EP without task or classifier; auto without classifier.
	ep, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 2}, Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	defer ep.Close()
	_, _, err = ep.Restore(context.Background(), testImage(8, 8, 1), nil)
	require.ErrorContains(t, err, "needs a task (Options.Task) or a classifier")
	_, _, err = m.Restore(context.Background(), testImage(8, 8, 1), &Options{Auto: true})
	require.ErrorContains(t, err, "has no classifier")
	// A closed model.
	ep.Close()
	_, _, err = ep.Restore(context.Background(), testImage(8, 8, 1), &Options{Task: degrade.Blur})
	require.ErrorIs(t, err, ErrClosedModel)
}

// TestRestorePaddingRules: Restormer pads to 64 and Uformer to 128 then to a
// square (with the AP prompt from the padded image), as the reference test
// procedure; the results equal the network run on the padded input, cropped.
func TestRestorePaddingRules(t *testing.T) {
	for _, c := range []struct {
		name string
		rule nets.PadRule
		h, w int64
	}{
		{"Restormer_AP", nets.PadRule{Multiple: 64}, 70, 50},
		{"Uformer_AP", nets.PadRule{Multiple: 128, Square: true}, 100, 150},
	} {
		t.Run(c.name, func(t *testing.T) {
			live := torch.LiveTensors()
			m, err := Import(fixtures.Path(t, "models", c.name+".pth"), nil)
			require.NoError(t, err)
			defer m.Close()
			require.Equal(t, c.rule, m.PadRule())
			s := torch.NewScope(torch.Inference)
			defer s.Close()
			x := randInput(t, s, c.h, c.w, 11)
			got, _ := restoreSlice(t, m, x, nil)
			xp, top, left := padInput(x, c.rule)
			y, err := m.Forward(xp, xp)
			require.NoError(t, err)
			want, err := torch.ToSlice[float32](y.Narrow(2, top, c.h).Narrow(3, left, c.w).Contiguous())
			require.NoError(t, err)
			_, maxAbs := testutil.RelL2(got, want)
			require.LessOrEqual(t, maxAbs, 1e-6)
			if c.rule.Square {
				// nets.Uformer pads the same way by itself (plain hook-free
				// check of the reference steps).
				p, err := m.Backbone().(*nets.Uformer).Padding(c.h, c.w)
				require.NoError(t, err)
				require.Equal(t, []int64{1, 3, p.Side, p.Side}, xp.Shape())
				require.Equal(t, p.Top, top)
				require.Equal(t, p.Left, left)
			}
			s.Close()
			m.Close()
			require.Equal(t, live, torch.LiveTensors())
		})
	}
}

// progressLog records Options.Progress calls.
type progressLog struct{ calls [][2]int }

func (p *progressLog) add(done, total int) { p.calls = append(p.calls, [2]int{done, total}) }

// passes checks the calls: each pass starts with (0, total) and counts up
// by one; it returns the passes' totals and the last call.
func (p *progressLog) passes(t *testing.T) (totals []int, last [2]int) {
	t.Helper()
	require.NotEmpty(t, p.calls)
	for i, c := range p.calls {
		if c[0] == 0 {
			totals = append(totals, c[1])
		} else {
			require.Equal(t, [2]int{p.calls[i-1][0] + 1, p.calls[i-1][1]}, c, "call %d of %v", i, p.calls)
		}
		require.LessOrEqual(t, c[0], c[1])
	}
	return totals, p.calls[len(p.calls)-1]
}

// TestRestoreProgress: Progress counts the tiles Info reports, untiled (one
// tile), tiled, and after an out-of-memory backoff (the count starts again
// with the smaller tiles' total).
func TestRestoreProgress(t *testing.T) {
	m, err := New(smallConfigs["SRResNet_AP"], 2)
	require.NoError(t, err)
	defer m.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x := randInput(t, s, 100, 70, 3)
	for _, o := range []*Options{{}, {Tile: 32, Overlap: 8}, {Tile: 64}} {
		var p progressLog
		o.Progress = p.add
		_, info := restoreSlice(t, m, x, o)
		totals, last := p.passes(t)
		require.Equal(t, []int{info.Tiles}, totals)
		require.Equal(t, [2]int{info.Tiles, info.Tiles}, last)
		require.Len(t, p.calls, info.Tiles+1)
	}

	m.failTile = func(h, w int64) error {
		if max(h, w) > 32 {
			return fmt.Errorf("tile %dx%d: %w", w, h, torch.ErrOutOfMemory)
		}
		return nil
	}
	defer func() { m.failTile = nil }()
	var p progressLog
	_, info := restoreSlice(t, m, x, &Options{Tile: 64, Overlap: 8, MinTile: 16, Progress: p.add})
	require.Equal(t, 1, info.Retries) // 64 -> 32
	totals, last := p.passes(t)
	require.Len(t, totals, info.Retries+1)
	require.Equal(t, info.Tiles, totals[len(totals)-1])
	require.Equal(t, [2]int{info.Tiles, info.Tiles}, last)
	require.Equal(t, [][2]int{{0, totals[0]}}, p.calls[:1]) // the failed pass finished no tile
}

// TestRestoreCancel: cancelling the context from Progress after the first
// tile stops Restore before the second, with an error wrapping
// context.Canceled, and every tensor freed; a context done before the call
// stops it before any work.
func TestRestoreCancel(t *testing.T) {
	for _, name := range []string{"SRResNet_AP", "SwinIR_AP"} {
		t.Run(name, func(t *testing.T) {
			m, err := New(smallConfigs[name], 4)
			require.NoError(t, err)
			defer m.Close()
			img := testImage(96, 80, 2)
			// A first restoration fills the SwinIR mask cache, which lives
			// as long as the model.
			_, _, err = m.Restore(t.Context(), img, &Options{Tile: 32, Overlap: 8})
			require.NoError(t, err)
			live := torch.LiveTensors()

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var p progressLog
			o := &Options{Tile: 32, Overlap: 8, Progress: func(done, total int) {
				p.add(done, total)
				if done == 1 {
					cancel()
				}
			}}
			out, info, err := m.Restore(ctx, img, o)
			require.ErrorIs(t, err, context.Canceled)
			require.ErrorContains(t, err, "stopped after 1 of ")
			require.Nil(t, out)
			require.NotNil(t, info)
			require.Len(t, p.calls, 2, "no tile after the cancel")
			require.Greater(t, p.calls[0][1], 1)
			require.Equal(t, live, torch.LiveTensors())

			// The tensor entry point, and a context already done.
			s := torch.NewScope(torch.Inference)
			x := randInput(t, s, 80, 96, 3)
			p = progressLog{}
			_, _, err = m.RestoreTensor(ctx, x, &Options{Tile: 32, Progress: p.add})
			require.ErrorIs(t, err, context.Canceled)
			require.Empty(t, p.calls)
			dl, stop := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
			defer stop()
			_, _, err = m.RestoreTensor(dl, x, nil)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			s.Close()
			require.Equal(t, live, torch.LiveTensors())
		})
	}
}

// TestRestoreContextBitExact: a live context and a Progress callback do not
// change a single bit of the result (untiled and tiled, image and tensor).
func TestRestoreContextBitExact(t *testing.T) {
	m, err := New(smallConfigs["SwinIR_AP"], 7)
	require.NoError(t, err)
	defer m.Close()
	img := testImage(50, 37, 5)
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x := randInput(t, s, 37, 50, 5)
	for _, tile := range []int{0, 24} {
		ctx, cancel := context.WithCancel(t.Context())
		want, _, err := m.Restore(context.Background(), img, &Options{Tile: tile, Overlap: 8})
		require.NoError(t, err)
		got, _, err := m.Restore(ctx, img, &Options{Tile: tile, Overlap: 8, Progress: func(int, int) {}})
		require.NoError(t, err)
		require.Equal(t, want.Pix, got.Pix)
		a, _ := restoreSlice(t, m, x, &Options{Tile: tile, Overlap: 8})
		y, _, err := m.RestoreTensor(ctx, x, &Options{Tile: tile, Overlap: 8, Progress: func(int, int) {}})
		require.NoError(t, err)
		b, err := torch.ToSlice[float32](y)
		require.NoError(t, err)
		y.Close()
		require.Equal(t, a, b)
		cancel()
	}
}

// TestCheckFinite: one NaN or infinite value anywhere in a large input
// (where the reductions run vectorised and in parallel) is found and
// counted; finite extremes pass.
func TestCheckFinite(t *testing.T) {
	const n = 3 * 512 * 700
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%255) / 255
	}
	x, err := torch.FromSlice(nil, v, 1, 3, 512, 700)
	require.NoError(t, err)
	require.NoError(t, checkFinite(x))
	x.Close()
	v[0], v[n-1] = math.MaxFloat32, -math.MaxFloat32
	x, err = torch.FromSlice(nil, v, 1, 3, 512, 700)
	require.NoError(t, err)
	require.NoError(t, checkFinite(x), "the largest finite values")
	x.Close()
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, at := range []int{0, 1, 4097, n / 2, n - 1} {
			w := slices.Clone(v)
			w[at] = bad
			x, err := torch.FromSlice(nil, w, 1, 3, 512, 700)
			require.NoError(t, err)
			require.ErrorContains(t, checkFinite(x), "has 1 NaN or infinite values", "%v at %d", bad, at)
			x.Close()
		}
	}
}
