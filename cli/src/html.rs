//! `--html FILE` for `report open` and `report merge`: one self-contained page (inline SVG, no
//! scripts, no external assets) with each table as a chart and as a table, suppressed cells
//! marked as such, noisy cells with their intervals, and the provenance of every bundle.

use std::fmt::Write as _;

use caseward::report::bundle::{Origin, SignedReport};
use caseward::{Cell, Table};

/// HTML-escapes text for element content and attribute values; control characters become
/// visible escapes first, as on the terminal (a page may be read as text too).
fn esc(text: &str) -> String {
    let text = crate::neutral::term(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const PALETTE: [&str; 8] = ["#2f6f9f", "#e08a2c", "#4f9d69", "#b54a5a", "#7a5ea8", "#8c6d46", "#c76fa6", "#6b7b8c"];

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

/// A grouped horizontal bar chart of the interior cells: one group per row, one bar per column.
fn chart(t: &Table) -> String {
    let rows = t.rows.len();
    let cols = t.columns.len().max(1);
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
    // Room for the longest row label (about 6.5 px a character at 11 px).
    let longest = t.rows.iter().map(|r| r.chars().count()).max().unwrap_or(8) as f64;
    let (label_w, plot_w, bar_h, gap) = ((longest * 6.5 + 12.0).clamp(80.0, 320.0), 480.0, 12.0, 10.0);
    let group_h = cols as f64 * bar_h + gap;
    let legend_h = 18.0 * cols.div_ceil(3) as f64 + 8.0;
    let height = rows as f64 * group_h + legend_h + 24.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{}" width="{:.0}" height="{height:.0}" viewBox="0 0 {:.0} {height:.0}">"#,
        esc(&t.title),
        label_w + plot_w + 90.0,
        label_w + plot_w + 90.0
    );
    svg.push_str(r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>"##);
    let scale = |v: f64| (v.max(0.0) / max) * plot_w;
    for (r, row) in bars.iter().enumerate() {
        let y0 = r as f64 * group_h + 4.0;
        let _ = write!(
            svg,
            r#"<text x="{:.0}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"#,
            label_w - 6.0,
            y0 + group_h / 2.0,
            esc(t.rows.get(r).map_or("", String::as_str))
        );
        for (c, b) in row.iter().enumerate() {
            let y = y0 + c as f64 * bar_h;
            let color = PALETTE.get(c % PALETTE.len()).copied().unwrap_or("#555");
            match b {
                Bar::Value(v) => {
                    let _ = write!(
                        svg,
                        r#"<rect class="bar" x="{label_w}" y="{y:.1}" width="{:.1}" height="{:.0}" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="9">{v}</text>"#,
                        scale(*v),
                        bar_h - 2.0,
                        label_w + scale(*v) + 3.0,
                        y + bar_h - 3.0
                    );
                }
                Bar::Interval(v, lo, hi) => {
                    let _ = write!(
                        svg,
                        r##"<rect class="bar noisy" x="{label_w}" y="{y:.1}" width="{:.1}" height="{:.0}" fill="{color}" fill-opacity="0.6"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#000"/><text x="{:.1}" y="{:.1}" font-size="9">{v:.0} [{lo:.0}, {hi:.0}]</text>"##,
                        scale(*v),
                        bar_h - 2.0,
                        label_w + scale(*lo),
                        label_w + scale(*hi),
                        y + bar_h / 2.0,
                        y + bar_h / 2.0,
                        label_w + scale(*hi) + 3.0,
                        y + bar_h - 3.0
                    );
                }
                Bar::Hidden(range) => {
                    let (x, w, label) = match range {
                        Some((lo, hi)) => (
                            label_w + scale(*lo),
                            (scale(*hi) - scale(*lo)).max(6.0),
                            format!("{lo:.0}..{hi:.0} (suppressed by a provider)"),
                        ),
                        None => (label_w, 24.0, "suppressed (&lt;11)".to_owned()),
                    };
                    let _ = write!(
                        svg,
                        r##"<rect class="bar suppressed" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{:.0}" fill="url(#hatch)" stroke="#999"/><text x="{:.1}" y="{:.1}" font-size="9" fill="#555">{label}</text>"##,
                        bar_h - 2.0,
                        x + w + 3.0,
                        y + bar_h - 3.0
                    );
                }
            }
        }
    }
    let ly = rows as f64 * group_h + 12.0;
    for (c, name) in t.columns.iter().enumerate() {
        let x = label_w + (c % 3) as f64 * 180.0;
        let y = ly + (c / 3) as f64 * 18.0;
        let color = PALETTE.get(c % PALETTE.len()).copied().unwrap_or("#555");
        let _ = write!(
            svg,
            r#"<rect x="{x:.0}" y="{y:.0}" width="10" height="10" fill="{color}"/><text x="{:.0}" y="{:.0}" font-size="11">{}</text>"#,
            x + 14.0,
            y + 9.0,
            esc(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn cell_html(c: &Cell) -> String {
    match c {
        Cell::Count(v) => format!("{v}"),
        Cell::Suppressed => {
            r#"<span class="sup" title="withheld: 1 to 10, or hidden to protect such a cell">&lt;11</span>"#.into()
        }
        Cell::Noisy { value, variance, half_width } => {
            let h = caseward::report::noisy_half_width(*variance, *half_width);
            format!(r#"<span class="noisy">{value} <small>±{h}</small></span>"#)
        }
        Cell::Estimate { value, low, high, confidence, .. } => format!(
            r#"<span class="noisy" title="holds with probability at least {confidence} %">{value} <small>[{low}, {high}] {confidence}&nbsp;%</small></span>"#
        ),
        Cell::Bound { low, high, confidence } => {
            let range = high.map_or(format!("&ge;{low}"), |h| format!("{low}..{h}"));
            let sure = confidence.map_or(String::new(), |c| format!(" <small>{c}&nbsp;%</small>"));
            format!(r#"<span class="sup" title="a provider suppressed part of this cell">{range}{sure}</span>"#)
        }
    }
}

fn table_html(t: &Table) -> String {
    let mut h = String::from("<table><thead><tr><th></th>");
    for c in &t.columns {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    if t.row_totals {
        h.push_str("<th>Total</th>");
    }
    h.push_str("</tr></thead><tbody>");
    for (r, row) in t.cells.iter().enumerate() {
        let label = t.rows.get(r).map_or("Total", String::as_str);
        let class = if r == t.rows.len() { r#" class="total""# } else { "" };
        let _ = write!(h, "<tr{class}><th>{}</th>", esc(label));
        for c in row {
            let _ = write!(h, "<td>{}</td>", cell_html(c));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}\
h1{font-size:1.5em}h2{font-size:1.1em;margin-top:2em;border-top:1px solid #ddd;padding-top:1em}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}\
th:first-child{text-align:left}tr.total{font-weight:bold;background:#f6f6f6}.sup{color:#777;font-style:italic}\
.noisy small{color:#666}.meta{font-size:.85em;color:#444}.warn{color:#a00;font-weight:bold}code{font-size:.9em;word-break:break-all}\
section.meta table{table-layout:fixed;width:100%}section.meta td{text-align:left;vertical-align:top}";

/// The whole page.
pub fn page(title: &str, reports: &[SignedReport], tables: &[Table], notes: &[String]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>"#,
        esc(title),
        esc(title)
    );
    h.push_str(r#"<section class="meta"><h2>Provenance</h2><table><thead><tr><th>provider</th><th>period</th><th>signature</th><th>policy</th><th>method</th><th>disclosure-log head</th></tr></thead><tbody>"#);
    for r in reports {
        let rep = &r.report;
        let sig = match r.origin {
            Origin::Registered => format!("verified against the registry: <code>{}</code>", esc(&r.signer)),
            Origin::Unchecked => format!(
                r#"<span class="warn">valid, but NOT checked against a registry</span> <code>{}</code>"#,
                esc(&r.signer)
            ),
        };
        let method = serde_json::to_string(&rep.method).unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{sig}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&rep.provider),
            rep.period,
            esc(&rep.policy),
            esc(&method),
            esc(rep.log_head.as_deref().unwrap_or("-"))
        );
    }
    h.push_str("</tbody></table><p>Cells marked <span class=\"sup\">&lt;11</span> are withheld: they hold 1 to 10 persons or events, or are hidden so that such a cell cannot be recovered from the totals. They are never estimated here. Noisy cells show their 95&nbsp;% interval; a merged total with noisy parts shows the sum of their intervals and the confidence that it holds (5&nbsp;% less per noisy part).</p></section>");
    for t in tables {
        let _ = write!(
            h,
            r#"<section class="indicator" id="t{}"><h2>[{}] {}</h2><p class="meta">indicator {} · {} · {} · {}{}{}</p>"#,
            esc(&t.id),
            esc(&t.id),
            esc(&t.title),
            t.indicator,
            esc(&t.covers),
            esc(&t.geography),
            esc(&t.unit),
            esc(&crate::report::event_cap_text(t)),
            if t.withheld { " · withheld whole: too few people to protect cell by cell" } else { "" }
        );
        h.push_str(&chart(t));
        h.push_str(&table_html(t));
        h.push_str("</section>");
    }
    if !notes.is_empty() {
        h.push_str("<section class=\"meta\"><h2>Notes</h2><ul>");
        for n in notes {
            let _ = write!(h, "<li>{}</li>", esc(n));
        }
        h.push_str("</ul></section>");
    }
    h.push_str("</body></html>\n");
    h
}
