package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// pulseDots, pulseDot and pulseGap shape the activity indicator.
const (
	pulseDots = 3
	pulseDot  = 6 // diameter of one dot
	pulseGap  = 3 // space between dots
)

// pulse is the activity indicator of a study that is receiving: a row of
// dots, one of them lit. It moves only when the window refreshes (step), at
// most 20 times a second. widget.Activity would do it differently: it runs a
// Fyne animation at the display's frame rate, which makes the driver repaint
// the whole window ~60 times a second for as long as a study arrives — on a
// machine without a GPU that costs the receiver a large share of the CPU
// (measured in docs/benchmarks.md, "Window open").
type pulse struct {
	widget.BaseWidget
	lit int // the lit dot, 0 … pulseDots-1
}

func newPulse() *pulse {
	p := &pulse{}
	p.ExtendBaseWidget(p)
	return p
}

// step lights the dot for refresh number n.
func (p *pulse) step(n int) {
	if i := n % pulseDots; i != p.lit {
		p.lit = i
		p.Refresh()
	}
}

// CreateRenderer is part of fyne.Widget.
func (p *pulse) CreateRenderer() fyne.WidgetRenderer {
	r := &pulseRenderer{p: p}
	for i := range r.dots {
		d := canvas.NewRectangle(color.Transparent)
		d.CornerRadius = pulseDot / 2
		d.Resize(fyne.NewSquareSize(pulseDot))
		r.dots[i] = d
		r.objs = append(r.objs, d)
	}
	r.Refresh()
	return r
}

type pulseRenderer struct {
	p    *pulse
	dots [pulseDots]*canvas.Rectangle
	objs []fyne.CanvasObject
}

func (r *pulseRenderer) Destroy() {}

func (r *pulseRenderer) Layout(size fyne.Size) {
	y := (size.Height - pulseDot) / 2
	for i, d := range r.dots {
		d.Move(fyne.NewPos(theme.InnerPadding()/2+float32(i*(pulseDot+pulseGap)), y))
	}
}

func (r *pulseRenderer) MinSize() fyne.Size {
	return fyne.NewSize(theme.InnerPadding()/2+pulseDots*pulseDot+(pulseDots-1)*pulseGap, pulseDot)
}

func (r *pulseRenderer) Objects() []fyne.CanvasObject { return r.objs }

func (r *pulseRenderer) Refresh() {
	on := theme.Color(theme.ColorNamePrimary)
	off := theme.Color(theme.ColorNameDisabled)
	for i, d := range r.dots {
		c := off
		if i == r.p.lit {
			c = on
		}
		if d.FillColor != c {
			d.FillColor = c
			d.Refresh()
		}
	}
}
