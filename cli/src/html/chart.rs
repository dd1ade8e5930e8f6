//! A table's interior cells as an inline SVG grouped bar chart: one group per row, one bar per
//! column. Colour is never the only cue: every bar of a table with several columns is labelled
//! with its column, and neighbouring series differ in texture as well as colour.

use std::fmt::Write as _;

use caseward::{Cell, Table};

use super::{column_word, esc, row_word};

/// Paul Tol's 12-colour qualitative scheme (SRON technical note SRON/EPS/TN/09-002, the same
/// colours as CARTOColors "Safe" with Tol's #AA4466 for its grey), ordered so that neighbouring
/// series contrast. Designed to stay distinguishable under the common colour-vision deficiencies.
pub(super) const PALETTE: [&str; 12] = [
    "#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499", "#44AA99", "#999933", "#882255", "#661100",
    "#6699CC", "#AA4466",
];

/// The colour of an `other` column, whatever its place: a neutral grey outside the palette.
const OTHER: &str = "#888888";

/// Textures laid over a series' colour, so neighbouring series differ without colour too
/// (patterns defined once per page in [`DEFS`]).
const TEXTURES: [Option<&str>; 3] = [None, Some("tex-stripes"), Some("tex-dots")];

/// Patterns every chart of the page uses: the hatch of a withheld cell and the series textures.
pub(super) const DEFS: &str = concat!(
    r##"<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>"##,
    r##"<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern>"##,
    r##"<pattern id="tex-stripes" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" stroke="#fff" stroke-width="1.6" stroke-opacity="0.75"/></pattern>"##,
    r##"<pattern id="tex-dots" width="5" height="5" patternUnits="userSpaceOnUse"><circle cx="2.5" cy="2.5" r="1.2" fill="#fff" fill-opacity="0.8"/></pattern>"##,
    "</defs></svg>"
);

/// Column `c`'s colour and texture: 12 colours, and a texture that differs between neighbours
/// and between a column and the one 12 places on (which shares its colour).
pub(super) fn series(c: usize, raw: &str) -> (&'static str, Option<&'static str>) {
    let colour = if raw == "other" { OTHER } else { PALETTE.get(c % PALETTE.len()).copied().unwrap_or(OTHER) };
    let texture = TEXTURES.get((c + c / PALETTE.len()) % TEXTURES.len()).copied().flatten();
    (colour, texture)
}

/// What a bar shows: an exact value, a range it is known to lie in, or nothing known.
enum Bar {
    Value(f64),
    Interval(f64, f64, f64),
    Hidden(Option<(f64, f64)>),
}

fn bar(cell: &Cell) -> Bar {
    match cell {
        Cell::Count(v) => Bar::Value(*v as f64),
        Cell::Noisy { value, .. } => {
            let (lo, hi) = cell.noisy_interval().unwrap_or((*value, *value));
            Bar::Interval(*value as f64, lo as f64, hi as f64)
        }
        Cell::Estimate { value, low, high, .. } => Bar::Interval(*value as f64, *low as f64, *high as f64),
        Cell::Bound { low, high, .. } => Bar::Hidden(Some((*low as f64, high.map_or(*low as f64, |h| h as f64)))),
        Cell::Suppressed => Bar::Hidden(None),
    }
}

/// Width in pixels of `text` at `size` px, roughly (an average glyph is about 0.58 em).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.58
}

/// The chart of table `t`.
pub(super) fn chart(t: &Table) -> String {
    let rows = t.rows.len();
    let cols = t.columns.len().max(1);
    let labelled = t.columns.len() > 1;
    let bars: Vec<Vec<Bar>> =
        (0..rows).map(|r| (0..cols).map(|c| t.cell(r, c).map_or(Bar::Hidden(None), bar)).collect()).collect();
    let max = bars
        .iter()
        .flatten()
        .map(|b| match b {
            Bar::Value(v) => *v,
            Bar::Interval(_, _, hi) => *hi,
            Bar::Hidden(Some((_, hi))) => *hi,
            Bar::Hidden(None) => 0.0,
        })
        .fold(1.0_f64, f64::max);
    let row_labels: Vec<String> = t.rows.iter().map(|r| row_word(r).map_or_else(|| r.clone(), str::to_owned)).collect();
    let col_labels: Vec<String> =
        t.columns.iter().map(|c| column_word(&t.id, c).map_or_else(|| c.clone(), str::to_owned)).collect();
    let longest_row = row_labels.iter().map(|r| text_width(r, 11.0)).fold(0.0, f64::max);
    let longest_col = col_labels.iter().map(|c| text_width(c, 9.0)).fold(0.0, f64::max);
    let label_w = (longest_row + 14.0).clamp(80.0, 300.0);
    let plot_w = 420.0;
    // After a bar: its column (when there are several) and its value or interval.
    let right = if labelled { longest_col + 110.0 } else { 110.0 };
    let width = label_w + plot_w + right;
    let (bar_h, gap) = (12.0, 10.0);
    let group_h = cols as f64 * bar_h + gap;
    let legend_item = (longest_col * 11.0 / 9.0 + 30.0).max(120.0);
    let per_line = (((width - label_w) / legend_item).floor() as usize).max(1);
    let legend_h = 18.0 * cols.div_ceil(per_line) as f64 + 8.0;
    let height = rows as f64 * group_h + legend_h + 24.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{}" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">"#,
        esc(&t.title),
    );
    let scale = |v: f64| (v.max(0.0) / max) * plot_w;
    for (r, row) in bars.iter().enumerate() {
        let y0 = r as f64 * group_h + 4.0;
        let _ = write!(
            svg,
            r#"<text x="{:.0}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"#,
            label_w - 6.0,
            y0 + group_h / 2.0,
            esc(row_labels.get(r).map_or("", String::as_str))
        );
        for (c, b) in row.iter().enumerate() {
            let y = y0 + c as f64 * bar_h;
            let (colour, texture) = series(c, t.columns.get(c).map_or("", String::as_str));
            let name = match col_labels.get(c) {
                Some(n) if labelled => format!("{}: ", esc(n)),
                _ => String::new(),
            };
            // The text starts after the bar, or after its interval when that reaches further.
            let mut text_x = 0.0_f64;
            let mut interval = String::new();
            let (x, w, class, fill, text) = match b {
                Bar::Value(v) => (label_w, scale(*v), "bar", format!(r#"fill="{colour}""#), format!("{name}{v}")),
                Bar::Interval(v, lo, hi) => {
                    interval = format!(
                        r##"<line class="interval" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#000"/>"##,
                        label_w + scale(*lo),
                        label_w + scale(*hi),
                        y + bar_h / 2.0 - 1.0,
                        y + bar_h / 2.0 - 1.0,
                    );
                    text_x = label_w + scale(*hi);
                    (
                        label_w,
                        scale(*v),
                        "bar noisy",
                        format!(r#"fill="{colour}" fill-opacity="0.6""#),
                        format!("{name}{v:.0} [{lo:.0}, {hi:.0}]"),
                    )
                }
                Bar::Hidden(Some((lo, hi))) => (
                    label_w + scale(*lo),
                    (scale(*hi) - scale(*lo)).max(6.0),
                    "bar suppressed",
                    r##"fill="url(#hatch)" stroke="#999""##.to_owned(),
                    format!("{name}{lo:.0}..{hi:.0} (suppressed by a provider)"),
                ),
                Bar::Hidden(None) => (
                    label_w,
                    24.0,
                    "bar suppressed",
                    r##"fill="url(#hatch)" stroke="#999""##.to_owned(),
                    format!("{name}withheld (&lt;11)"),
                ),
            };
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{:.0}" {fill}/>"#,
                bar_h - 2.0
            );
            if let (Some(tex), false) = (texture, class == "bar suppressed") {
                let _ = write!(
                    svg,
                    r#"<rect class="tex" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{:.0}" fill="url(#{tex})"/>"#,
                    bar_h - 2.0
                );
            }
            svg.push_str(&interval);
            // Withheld and zero cells in grey, so the bars that say something stand out.
            let grey = match b {
                Bar::Hidden(_) => r##" fill="#555""##,
                Bar::Value(v) if *v == 0.0 => r##" fill="#777""##,
                _ => "",
            };
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="9"{grey}>{text}</text>"#,
                text_x.max(x + w) + 3.0,
                y + bar_h - 3.0
            );
        }
    }
    let ly = rows as f64 * group_h + 12.0;
    for (c, name) in col_labels.iter().enumerate() {
        let x = label_w + (c % per_line) as f64 * legend_item;
        let y = ly + (c / per_line) as f64 * 18.0;
        let (colour, texture) = series(c, t.columns.get(c).map_or("", String::as_str));
        let _ = write!(svg, r#"<rect class="swatch" x="{x:.0}" y="{y:.0}" width="12" height="12" fill="{colour}"/>"#);
        if let Some(tex) = texture {
            let _ =
                write!(svg, r#"<rect class="tex" x="{x:.0}" y="{y:.0}" width="12" height="12" fill="url(#{tex})"/>"#);
        }
        let _ = write!(svg, r#"<text x="{:.0}" y="{:.0}" font-size="11">{}</text>"#, x + 16.0, y + 10.0, esc(name));
    }
    svg.push_str("</svg>");
    svg
}
