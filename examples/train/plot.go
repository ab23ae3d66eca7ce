package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/mioir/train"
)

// curveColors are the line colours of the training curve: one per task
// (indexed by degrade.Task, 1..7), index 0 for the overall loss.
var curveColors = [8]color.NRGBA{
	{0, 0, 0, 255},       // all
	{31, 119, 180, 255},  // sr
	{255, 127, 14, 255},  // blur
	{44, 160, 44, 255},   // noise
	{214, 39, 40, 255},   // jpeg
	{148, 103, 189, 255}, // rain
	{140, 86, 75, 255},   // haze
	{227, 119, 194, 255}, // dark
}

const (
	plotPanelW = 480
	plotPanelH = 320
	plotMargin = 50
)

// plotHistory draws h as a PNG: on the left the training loss over
// iterations (overall in black, one line per task), on the right the
// validation PSNR per task, with axes, the value range and a legend
// (curveColors).
func plotHistory(w io.Writer, h train.History) error {
	img := image.NewNRGBA(image.Rect(0, 0, 2*plotPanelW, plotPanelH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	var loss []series
	all := series{col: curveColors[0], name: "all"}
	for _, p := range h.Loss {
		all.x = append(all.x, float64(p.Iter))
		all.y = append(all.y, p.Loss)
	}
	loss = append(loss, all)
	var val []series
	for _, task := range degrade.AllTasks() {
		s := series{col: curveColors[task], name: task.Name()}
		for _, p := range h.Loss {
			if v, ok := p.Tasks[task.Name()]; ok {
				s.x = append(s.x, float64(p.Iter))
				s.y = append(s.y, v)
			}
		}
		if len(s.x) > 0 {
			loss = append(loss, s)
		}
		v := series{col: curveColors[task], name: task.Name()}
		for _, p := range h.Val {
			if y, ok := p.Tasks[task.Name()]; ok {
				v.x = append(v.x, float64(p.Iter))
				v.y = append(v.y, y)
			}
		}
		if len(v.x) > 0 {
			val = append(val, v)
		}
	}
	drawPanel(img, image.Rect(0, 0, plotPanelW, plotPanelH), "training loss (L1)", loss)
	drawPanel(img, image.Rect(plotPanelW, 0, 2*plotPanelW, plotPanelH), "validation PSNR (dB)", val)
	return png.Encode(w, img)
}

type series struct {
	x, y []float64
	col  color.NRGBA
	name string
}

func drawPanel(img *image.NRGBA, r image.Rectangle, title string, ss []series) {
	axis := color.NRGBA{80, 80, 80, 255}
	plot := image.Rect(r.Min.X+plotMargin+10, r.Min.Y+30, r.Max.X-20, r.Max.Y-plotMargin)
	hline(img, plot.Min.X, plot.Max.X, plot.Max.Y, axis)
	vline(img, plot.Min.X, plot.Min.Y, plot.Max.Y, axis)
	label(img, r.Min.X+plotMargin+10, r.Min.Y+18, title, color.Black)
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for i := range s.x {
			if math.IsNaN(s.y[i]) || math.IsInf(s.y[i], 0) {
				continue
			}
			x0, x1 = math.Min(x0, s.x[i]), math.Max(x1, s.x[i])
			y0, y1 = math.Min(y0, s.y[i]), math.Max(y1, s.y[i])
		}
	}
	if math.IsInf(x0, 1) {
		label(img, plot.Min.X+10, plot.Min.Y+20, "no data yet", axis)
		return
	}
	if x1 == x0 {
		x0, x1 = x0-1, x1+1
	}
	if y1 == y0 {
		y0, y1 = y0-1, y1+1
	}
	pad := (y1 - y0) * 0.05
	y0, y1 = y0-pad, y1+pad
	label(img, r.Min.X+2, plot.Min.Y+4, fmt.Sprintf("%.4g", y1), axis)
	label(img, r.Min.X+2, plot.Max.Y, fmt.Sprintf("%.4g", y0), axis)
	label(img, plot.Min.X, plot.Max.Y+16, fmt.Sprintf("%d", int(x0)), axis)
	label(img, plot.Max.X-60, plot.Max.Y+16, fmt.Sprintf("iter %d", int(x1)), axis)
	px := func(x float64) int {
		return plot.Min.X + int(math.Round((x-x0)/(x1-x0)*float64(plot.Dx()-1)))
	}
	py := func(y float64) int {
		return plot.Max.Y - 1 - int(math.Round((y-y0)/(y1-y0)*float64(plot.Dy()-2)))
	}
	for k, s := range ss {
		for i := range s.x {
			if math.IsNaN(s.y[i]) || math.IsInf(s.y[i], 0) {
				continue
			}
			x, y := px(s.x[i]), py(s.y[i])
			if i == 0 || len(s.x) == 1 {
				dot(img, x, y, s.col)
			}
			if i > 0 && !math.IsNaN(s.y[i-1]) && !math.IsInf(s.y[i-1], 0) {
				line(img, px(s.x[i-1]), py(s.y[i-1]), x, y, s.col)
			}
		}
		// Legend, top right.
		lx, ly := plot.Max.X-70, plot.Min.Y+8+12*k
		hline(img, lx, lx+14, ly-4, s.col)
		hline(img, lx, lx+14, ly-3, s.col)
		label(img, lx+18, ly, s.name, s.col)
	}
}

func hline(img *image.NRGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

func vline(img *image.NRGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

func dot(img *image.NRGBA, x, y int, c color.Color) {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			img.Set(x+dx, y+dy, c)
		}
	}
}

// line draws a 2-pixel-thick segment (Bresenham).
func line(img *image.NRGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.Set(x0, y0, c)
		img.Set(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func label(img *image.NRGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// curveFile is the training curve this program draws in -out: loss and
// validation PSNR per task, from the trainer's History.
const curveFile = "curve.png"

// curve redraws the curve file whenever the trainer's history has grown.
type curve struct {
	path   string
	points int // loss and validation points drawn so far; -1: never drawn
}

func newCurve(path string) *curve { return &curve{path: path, points: -1} }

// update draws h unless it has as many points as the last drawing.
func (c *curve) update(h train.History) error {
	n := len(h.Loss) + len(h.Val)
	if n == c.points {
		return nil
	}
	c.points = n
	return atomicfile.WriteFile(c.path, func(w io.Writer) error { return plotHistory(w, h) })
}
