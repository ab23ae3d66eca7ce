package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

// psnr is the paper's PSNR (RGB, crop 4) of img against ref.
func psnr(img, ref image.Image) (float64, error) {
	r, err := metrics.Measure(img, ref, &metrics.Options{CropBorder: metrics.PaperCropBorder, PSNROnly: true})
	return r.PSNR, err
}

func writeTestImage(t *testing.T, path string, w, h int) *image.NRGBA {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 3), uint8(y * 5), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return m
}

// apFolder saves a small native AP model and makes an input folder with
// a.png (40x30, returned) and b.png (17x23); the model is closed at the
// test's end.
func apFolder(t *testing.T) (m *mioir.Model, model, in, out string, a *image.NRGBA) {
	t.Helper()
	dir := t.TempDir()
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 2},
		Prompt: prompt.Adaptive}, 3)
	require.NoError(t, err)
	t.Cleanup(m.Close)
	model = filepath.Join(dir, "model.safetensors")
	require.NoError(t, m.Save(model))
	in, out = filepath.Join(dir, "in"), filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(in, 0o755))
	a = writeTestImage(t, filepath.Join(in, "a.png"), 40, 30)
	writeTestImage(t, filepath.Join(in, "b.png"), 17, 23)
	return m, model, in, out, a
}

// TestFolderNativeModel restores a folder with a native AP model, in tiles,
// skipping a corrupt file, and gets what the library gives.
func TestFolderNativeModel(t *testing.T) {
	m, model, in, out, a := apFolder(t)
	require.NoError(t, os.WriteFile(filepath.Join(in, "broken.png"), []byte("not a png"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(in, "notes.txt"), []byte("ignored"), 0o644))

	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-model", model, "-in", in, "-out", out, "-tile", "16", "-overlap", "4"}, &stdout, &stderr, false))
	require.Contains(t, stdout.String(), "restored 2 of 3 images, 1 skipped")
	require.Contains(t, stderr.String(), "skipped "+filepath.Join(in, "broken.png"))
	require.Contains(t, stderr.String(), "[3/3] broken.png")
	got := testutil.ReadPNG(t, filepath.Join(out, "a.png"))
	want, _, err := m.Restore(context.Background(), a, &mioir.Options{Tile: 16, Overlap: 4})
	require.NoError(t, err)
	require.Equal(t, want.Bounds(), got.Bounds())
	for y := range 30 {
		for x := range 40 {
			require.Equal(t, want.NRGBAAt(x, y), color.NRGBAModel.Convert(got.At(x, y)), "pixel %d,%d", x, y)
		}
	}
	require.Equal(t, image.Pt(17, 23), testutil.ReadPNG(t, filepath.Join(out, "b.png")).Bounds().Size())
	_, err = os.Stat(filepath.Join(out, "broken.png"))
	require.True(t, os.IsNotExist(err))

	// A terminal gets one updating line.
	stderr.Reset()
	require.NoError(t, run(context.Background(), []string{"-model", model, "-in", in, "-out", out}, &stdout, &stderr, true))
	require.Contains(t, stderr.String(), "\r\033[K[2/3] b.png")

	// An AP model carrying a classifier reports the task it detects, but
	// restores from the image alone: the output is the classifier-free one.
	ap, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 2},
		Prompt: prompt.Adaptive, Classifier: true}, 3)
	require.NoError(t, err)
	defer ap.Close()
	require.NoError(t, ap.Save(model))
	stdout.Reset()
	one := filepath.Join(t.TempDir(), "one.png")
	require.NoError(t, run(context.Background(), []string{"-model", model, "-in", filepath.Join(in, "a.png"), "-out", one}, &stdout, &stderr, false))
	require.Regexp(t, `a\.png: task \w+ \(classifier: .*; reported only, the model reads the degradation from the image\n`, stdout.String())
	want, _, err = ap.Restore(context.Background(), a, nil)
	require.NoError(t, err)
	require.Equal(t, want.Pix, toNRGBA(testutil.ReadPNG(t, one)).Pix)
}

// TestStrengthLine: restoring noise with the bundled model, which
// predicts a share of the network's change per image, prints that share;
// -strength 1 prints nothing and writes the network's output.
func TestStrengthLine(t *testing.T) {
	in := filepath.Join("..", "..", "mioir", "pretrained", "testdata", "autoeval", "go-video-001-a_noise-s15.png")
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-in", in, "-out", filepath.Join(dir, "a.png"), "-task", "n", "-q"}, &stdout, &stderr, false))
	require.Contains(t, stdout.String(), "go-video-001-a_noise-s15.png: task noise, strength 0.84 (the model's estimate; -strength 1 keeps the network's output)\n")
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"-in", in, "-out", filepath.Join(dir, "b.png"), "-task", "n", "-q", "-strength", "1"}, &stdout, &stderr, false))
	require.NotContains(t, stdout.String(), "strength")
	m, err := pretrained.Default()
	require.NoError(t, err)
	defer m.Close()
	for _, c := range []struct {
		file     string
		strength float64
	}{{"a.png", 0}, {"b.png", 1}} {
		want, _, err := m.Restore(context.Background(), testutil.ReadPNG(t, in), &mioir.Options{Task: degrade.Noise, Strength: c.strength})
		require.NoError(t, err)
		require.Equal(t, want.Pix, toNRGBA(testutil.ReadPNG(t, filepath.Join(dir, c.file))).Pix, c.file)
	}
}

// TestImportPTHAuto imports the reference SRResNet_EP checkpoint with the
// maps and the classifier, and prints the task the classifier picks.
func TestImportPTHAuto(t *testing.T) {
	pth := fixtures.Path(t, "models", "SRResNet_EP.pth")
	dir := t.TempDir()
	in := filepath.Join(dir, "x.png")
	writeTestImage(t, in, 32, 32)
	out := filepath.Join(dir, "y.png")
	var stdout, stderr bytes.Buffer
	args := []string{"-model", pth, "-in", in, "-out", out,
		"-typemaps", fixtures.Path(t, "models", "type7.npy"),
		"-classifier", fixtures.Path(t, "models", "Classifier.pth")}
	require.NoError(t, run(context.Background(), args, &stdout, &stderr, false))
	require.Contains(t, stdout.String(), "SRResNet_EP+Classifier")
	// The task, or none and the guard's reason, then the probabilities.
	require.Regexp(t, `x\.png: task [a-z]+[^\n]* \(classifier: blur 0\.[0-9]+, noise`, stdout.String())
	require.Equal(t, image.Pt(32, 32), testutil.ReadPNG(t, out).Bounds().Size())

	// An explicit task prints no classifier line.
	stdout.Reset()
	require.NoError(t, run(context.Background(), append(args, "-task", "n"), &stdout, &stderr, false))
	require.NotContains(t, stdout.String(), "classifier:")

	// Errors: EP without classifier in auto mode, wrong arch, bad config.
	err := run(context.Background(), []string{"-model", pth, "-in", in, "-out", out, "-typemaps", fixtures.Path(t, "models", "type7.npy")}, &stdout, &stderr, false)
	require.ErrorContains(t, err, "-task auto needs a classifier")
	err = run(context.Background(), []string{"-model", pth, "-in", in, "-out", out, "-arch", "SwinIR"}, &stdout, &stderr, false)
	require.ErrorContains(t, err, "not those of SwinIR")
	cfg := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"Net": {"Features": 32}}`), 0o644))
	err = run(context.Background(), []string{"-model", pth, "-in", in, "-out", out, "-config", cfg, "-task", "n"}, &stdout, &stderr, false)
	require.ErrorContains(t, err, "prompt_scale1.weight (want [32 64], got [64 64])")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"Net": {"Blockz": 3}}`), 0o644))
	err = run(context.Background(), []string{"-model", pth, "-in", in, "-out", out, "-config", cfg}, &stdout, &stderr, false)
	require.ErrorContains(t, err, "Blockz")
}

func TestUsageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.ErrorContains(t, run(context.Background(), []string{"-in", "x"}, &stdout, &stderr, false), "required")
	require.True(t, strings.Contains(stderr.String(), "-model"))
	require.ErrorContains(t, run(context.Background(), []string{"-out", "x"}, &stdout, &stderr, false), "required")
	dir := t.TempDir()
	single := filepath.Join(dir, "bad.png")
	require.NoError(t, os.WriteFile(single, []byte("garbage"), 0o644))
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 4, Blocks: 1}}, 1)
	require.NoError(t, err)
	model := filepath.Join(dir, "m.safetensors")
	require.NoError(t, m.Save(model))
	m.Close()
	err = run(context.Background(), []string{"-model", model, "-in", single, "-out", filepath.Join(dir, "o.png")}, &stdout, &stderr, false)
	require.ErrorContains(t, err, "no image could be restored")
	require.Contains(t, stderr.String(), "bad.png: not an image in a known format")
	err = run(context.Background(), []string{"-model", model, "-in", single, "-out", dir, "-ema"}, &stdout, &stderr, false)
	require.ErrorContains(t, err, "apply to .pth checkpoints")
	err = run(context.Background(), []string{"-model", model, "-in", single, "-out", dir, "-task", "q"}, &stdout, &stderr, false)
	require.Error(t, err)
	for _, v := range []string{"-0.5", "1.5", "NaN"} {
		err = run(context.Background(), []string{"-model", model, "-in", single, "-out", dir, "-strength", v}, &stdout, &stderr, false)
		require.ErrorContains(t, err, "-strength", v)
	}
}

// TestSampleDefaultModel runs the README's first command: the bundled model
// restores the bundled sample, the output file is what the library gives,
// and the printed PSNR figures are the measured ones.
func TestSampleDefaultModel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "restored.png")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-sample", "-out", out}, &stdout, &stderr, false))
	m, err := pretrained.Default()
	require.NoError(t, err)
	defer m.Close()
	lq, gt, err := pretrained.Sample()
	require.NoError(t, err)
	want, info, err := m.Restore(context.Background(), lq, &mioir.Options{Auto: true})
	require.NoError(t, err)
	got := testutil.ReadPNG(t, out)
	require.Equal(t, want.Bounds(), got.Bounds())
	for y := range want.Bounds().Dy() {
		for x := range want.Bounds().Dx() {
			require.Equal(t, want.NRGBAAt(x, y), color.NRGBAModel.Convert(got.At(x, y)), "pixel %d,%d", x, y)
		}
	}
	before, err := psnr(lq, gt)
	require.NoError(t, err)
	after, err := psnr(want, gt)
	require.NoError(t, err)
	s := stdout.String()
	require.Contains(t, s, "model default (bundled, mioir/pretrained) (SRResNet_EP+Classifier")
	require.Contains(t, s, fmt.Sprintf("detected task: %s (classifier: ", info.Task.Name()))
	require.Contains(t, s, fmt.Sprintf("PSNR %.2f dB -> %.2f dB (%+.2f dB); wrote %s", before, after, after-before, out))

	// -sample takes no -in; the default model takes no .pth options.
	require.ErrorContains(t, run(context.Background(), []string{"-sample", "-in", out}, &stdout, &stderr, false), "leave out -in")
	require.ErrorContains(t, run(context.Background(), []string{"-in", out, "-out", out, "-ema"}, &stdout, &stderr, false), "need -model")

	// Without -model a file is restored with the default model too.
	out2 := filepath.Join(t.TempDir(), "again.png")
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"-in", out, "-out", out2, "-task", "r"}, &stdout, &stderr, false))
	again, _, err := m.Restore(context.Background(), got, &mioir.Options{Task: degrade.Rain})
	require.NoError(t, err)
	require.Equal(t, again.Pix, toNRGBA(testutil.ReadPNG(t, out2)).Pix)
}

func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}

// TestTileProgressAndInterrupt: a terminal shows the tiles of each image;
// a cancelled context stops the folder with an error, not a skip per image.
func TestTileProgressAndInterrupt(t *testing.T) {
	_, model, in, out, _ := apFolder(t)
	args := []string{"-model", model, "-in", in, "-out", out, "-tile", "16", "-overlap", "4"}

	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), args, &stdout, &stderr, true))
	require.Contains(t, stderr.String(), "\r\033[K[1/2] a.png tile 1/")
	require.Contains(t, stderr.String(), "\r\033[K[2/2] b.png")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stdout.Reset()
	stderr.Reset()
	err := run(ctx, args, &stdout, &stderr, false)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "interrupted at "+filepath.Join(in, "a.png")+" (0 of 2 images restored)")
	require.NotContains(t, stderr.String(), "skipped")
}

// TestKeepsTheFile: -in x.png -out y.png keeps 16 bits, alpha, EXIF and ICC;
// a gray PNG stays gray; a JPEG stored sideways (EXIF orientation 6) comes
// out upright with orientation 1 and its ICC profile.
func TestKeepsTheFile(t *testing.T) {
	m, model, _, _, _ := apFolder(t)
	dir := t.TempDir()
	run1 := func(in, out string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(context.Background(), []string{"-model", model, "-in", in, "-out", out, "-q"}, &stdout, &stderr, false))
		require.Contains(t, stdout.String(), "restored 1 of 1 images")
	}
	// EXIF with only an orientation tag, big-endian.
	exif := func(o byte) []byte {
		return []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00" + string(rune(o)) + "\x00\x00\x00\x00\x00\x00")
	}
	icc := []byte("an ICC profile, kept byte for byte")

	src := image.NewNRGBA64(image.Rect(0, 0, 24, 18))
	for y := range 18 {
		for x := range 24 {
			src.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 2731), uint16(y * 3607), uint16(x*y*97 + 5), uint16(x*y*1013 + 1)})
		}
	}
	im := imagefile.FromImage(src)
	im.EXIF, im.ICC = exif(1), icc
	in, out := filepath.Join(dir, "x.png"), filepath.Join(dir, "y.png")
	require.NoError(t, imagefile.Write(in, im, nil))
	run1(in, out)
	got, err := imagefile.Read(out, nil)
	require.NoError(t, err)
	require.Equal(t, 16, got.Depth)
	require.Equal(t, im.Alpha, got.Alpha, "alpha unchanged")
	require.Equal(t, exif(1), got.EXIF)
	require.Equal(t, icc, got.ICC)
	want, _, err := m.RestoreImageFile(context.Background(), im, nil)
	require.NoError(t, err)
	for i, v := range want.Pix {
		require.InDelta(t, v, got.Pix[i], 0.5/65535+1e-7, "sample %d: written at 16 bits", i)
	}

	g := image.NewGray(image.Rect(0, 0, 20, 12))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 3)
	}
	in, out = filepath.Join(dir, "g.png"), filepath.Join(dir, "g-out.png")
	require.NoError(t, imagefile.Write(in, imagefile.FromImage(g), nil))
	run1(in, out)
	got, err = imagefile.Read(out, nil)
	require.NoError(t, err)
	require.True(t, got.Gray)
	require.IsType(t, &image.Gray{}, testutil.ReadPNG(t, out))

	side := imagefile.FromImage(writeTestImage(t, filepath.Join(dir, "side.png"), 32, 16))
	side.EXIF, side.ICC = exif(6), icc
	in, out = filepath.Join(dir, "side.jpg"), filepath.Join(dir, "upright.png")
	require.NoError(t, imagefile.Write(in, side, nil))
	run1(in, out)
	got, err = imagefile.Read(out, nil)
	require.NoError(t, err)
	require.Equal(t, [2]int{16, 32}, [2]int{got.Width, got.Height}, "turned upright")
	require.Equal(t, exif(1), got.EXIF)
	require.Equal(t, icc, got.ICC)
}
