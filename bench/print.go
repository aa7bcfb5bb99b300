package bench

import (
	"fmt"
	"io"
	"strings"
)

// Print writes one line per figure, for example
//
//	log replay (15420 entries)   4.45 ms   floor 0.41 ms (read+crc)   ratio 10.89x   target <= 4x   MISSED
//
// with the columns aligned, then one line naming the environment (device
// directory and page size, repetitions, clock, Go version, CPUs, cache
// instructions).
func Print(w io.Writer, r Results) error {
	var b strings.Builder
	for _, row := range alignRows(r.Figures) {
		b.WriteString(row)
		b.WriteByte('\n')
	}
	b.WriteString(r.environment())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// PrintDetails writes, under each figure's line, what else was measured:
// per-entry costs, median ratios, other baselines, and every sample.
func PrintDetails(w io.Writer, r Results) error {
	var b strings.Builder
	for k, row := range alignRows(r.Figures) {
		f := &r.Figures[k]
		b.WriteString(row)
		b.WriteByte('\n')
		if f.Detail != "" {
			fmt.Fprintf(&b, "    %s\n", f.Detail)
		}
		for _, a := range f.Also {
			fmt.Fprintf(&b, "    %s: %s vs %s = %.2fx\n", a.Name, fmtValue(a.Value, f.Unit), fmtValue(a.Baseline, f.Unit), a.Ratio)
		}
		if len(f.Samples) > 0 {
			fmt.Fprintf(&b, "    samples (%s): %s", f.Unit, fmtSamples(f.Samples))
			if len(f.BaseSamples) > 0 {
				fmt.Fprintf(&b, "; %s: %s", f.BaseWord, fmtSamples(f.BaseSamples))
			}
			b.WriteByte('\n')
		}
	}
	b.WriteString(r.environment())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Results) environment() string {
	return fmt.Sprintf("(%s, pages %s; best of %d runs, %s clock; %s, %d CPUs; %s)",
		r.Dir, r.Pages, r.Reps, r.Clock, r.GoVersion, r.CPUs, r.CacheOps)
}

// alignRows renders each figure's line with aligned columns.
func alignRows(figs []Figure) []string {
	cells := make([][]string, len(figs))
	var width [6]int
	for k, f := range figs {
		verdict := "ok"
		if !f.OK {
			verdict = "MISSED"
		}
		base, ratio := "", ""
		if f.BaseName != "" { // absolute figures (latency, memory) have no baseline
			base = fmt.Sprintf("%s %s (%s)", f.BaseWord, fmtValue(f.Baseline, f.Unit), f.BaseName)
			ratio = fmt.Sprintf("ratio %.2fx", f.Ratio)
		}
		cells[k] = []string{
			f.Name,
			fmtValue(f.Value, f.Unit),
			base,
			ratio,
			"target " + f.Target,
			verdict,
		}
		for i, c := range cells[k] {
			width[i] = max(width[i], len(c))
		}
	}
	rows := make([]string, len(figs))
	for k, row := range cells {
		var b strings.Builder
		for i, c := range row {
			switch {
			case i == len(row)-1:
				b.WriteString(c)
			case i == 1: // numbers align right
				fmt.Fprintf(&b, "%*s   ", width[i], c)
			default:
				fmt.Fprintf(&b, "%-*s   ", width[i], c)
			}
		}
		rows[k] = b.String()
	}
	return rows
}

func fmtValue(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

func fmtSamples(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.3g", x)
	}
	return strings.Join(s, " ")
}
