package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir/eval"
)

// Grid geometry, in pixels: the margin around and between cells, and the
// basicfont.Face7x13 glyph cell.
const (
	gridPad  = 6
	glyphW   = 7
	glyphH   = 13
	captionH = glyphH + 4
	headerH  = glyphH + 2*gridPad
)

var gridColumns = [3]string{"degraded", "restored", "ground truth"}

// gridRow is one set's first image, already scaled to the thumbnail height.
type gridRow struct {
	group, label string
	thumbs       [3]*image.NRGBA // degraded, restored, GT
	captions     [3]string
}

// gridBuilder collects one row per set from eval.Options.OnImage and
// draws the comparison grid: a header with the column names, then per row a
// label column (group and set label) and the degraded, restored and ground
// truth thumbnails, each captioned with its PSNR against the ground truth.
type gridBuilder struct {
	height int
	rows   []gridRow
	seen   map[string]bool
}

func newGrid(height int) *gridBuilder {
	return &gridBuilder{height: height, seen: map[string]bool{}}
}

// add keeps the first image of each set.
func (g *gridBuilder) add(s eval.Sample) {
	if g.seen[s.Set.Name] || s.Restored == nil {
		return
	}
	g.seen[s.Set.Name] = true
	row := gridRow{group: s.Set.Group.String(), label: s.Set.Label}
	if row.label == "" {
		row.label = s.Set.Name
	}
	for i, img := range []*image.NRGBA{s.LQ, s.Restored, s.GT} {
		row.thumbs[i] = thumbnail(img, g.height)
	}
	in, err := metrics.Measure(s.LQ, s.GT, &metrics.Options{CropBorder: metrics.PaperCropBorder, PSNROnly: true})
	row.captions[0] = psnrCaption(in.PSNR, err)
	row.captions[1] = psnrCaption(s.Result.PSNR, nil)
	row.captions[2] = s.Name
	g.rows = append(g.rows, row)
}

func psnrCaption(v float64, err error) string {
	switch {
	case err != nil:
		return "-"
	case math.IsInf(v, 1):
		return "inf dB"
	}
	return fmt.Sprintf("%.2f dB", v)
}

// thumbnail scales img to height h, keeping the aspect ratio.
func thumbnail(img *image.NRGBA, h int) *image.NRGBA {
	b := img.Bounds()
	w := max(1, int(math.Round(float64(b.Dx())*float64(h)/float64(b.Dy()))))
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return dst
}

// layout returns the label column width, the thumbnail column width and the
// row height.
func (g *gridBuilder) layout() (labelW, colW, rowH int) {
	n := 0
	for _, r := range g.rows {
		n = max(n, len(r.group), len(r.label))
		for i, t := range r.thumbs {
			colW = max(colW, t.Bounds().Dx(), len(r.captions[i])*glyphW)
		}
	}
	for _, c := range gridColumns {
		colW = max(colW, len(c)*glyphW)
	}
	return n*glyphW + gridPad, colW, g.height + captionH + gridPad
}

// size returns the grid's width and height.
func (g *gridBuilder) size() (w, h int) {
	labelW, colW, rowH := g.layout()
	return gridPad + labelW + 3*(colW+gridPad), headerH + len(g.rows)*rowH
}

// draw renders the grid on a white background.
func (g *gridBuilder) draw() *image.NRGBA {
	labelW, colW, rowH := g.layout()
	w, h := g.size()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	xdraw.Draw(img, img.Bounds(), image.White, image.Point{}, xdraw.Src)
	colX := func(c int) int { return gridPad + labelW + c*(colW+gridPad) }
	for c, name := range gridColumns {
		drawText(img, colX(c), gridPad+glyphH-2, name)
	}
	for i, r := range g.rows {
		y := headerH + i*rowH
		drawText(img, gridPad, y+glyphH, r.group)
		drawText(img, gridPad, y+2*glyphH+2, r.label)
		for c, t := range r.thumbs {
			x := colX(c)
			xdraw.Draw(img, t.Bounds().Add(image.Pt(x, y)), t, image.Point{}, xdraw.Src)
			drawText(img, x, y+g.height+glyphH, r.captions[c])
		}
	}
	return img
}

// encode writes the grid as PNG (for atomicfile.WriteFile).
func (g *gridBuilder) encode(w io.Writer) error {
	if len(g.rows) == 0 {
		return fmt.Errorf("grid: no restored image")
	}
	return png.Encode(w, g.draw())
}

// drawText writes s in black with its baseline at y.
func drawText(dst *image.NRGBA, x, y int, s string) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
