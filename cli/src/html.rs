//! `--html FILE` for `report open` and `report merge`: one self-contained page (inline SVG, no
//! scripts, no external assets). A summary first (providers, period, whether each signature was
//! checked against the registry, the disclosure method in words, how many tables are shown,
//! withheld whole or left out, and a table of contents); then each table as a chart and a grid,
//! with caseward's identifiers in words and the raw identifier beside them; a table withheld
//! whole is one notice. Wide tables scroll in their own box on screen and shrink to the page in
//! print.

mod chart;
mod words;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use caseward::report::bundle::{Origin, SignedReport};
use caseward::report::{Method, Period};
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

/// A column label of table `id` in words, when it is caseward's own identifier.
fn column_word(id: &str, raw: &str) -> Option<&'static str> {
    words::column(id, raw)
}

/// A row label in words, when it is caseward's own (`all sites`, `other sites`).
fn row_word(raw: &str) -> Option<&'static str> {
    words::row(raw)
}

/// A label in words with its raw identifier kept visible (small and grey, and as the tooltip)
/// so an analyst can match it to the CSV; a label caseward does not know is shown as written.
fn labelled(word: Option<&str>, raw: &str) -> String {
    match word {
        Some(w) if w == raw => esc(w),
        Some(w) if w.eq_ignore_ascii_case(raw) => format!(r#"<span title="{}">{}</span>"#, esc(raw), esc(w)),
        Some(w) => format!(r#"<span title="{}">{}</span><small class="raw">{}</small>"#, esc(raw), esc(w), esc(raw)),
        None => esc(raw),
    }
}

/// Whether a table is withheld whole: flagged so, or no cell of it published.
fn withheld_whole(t: &Table) -> bool {
    t.withheld || t.cells.iter().flatten().all(|c| matches!(c, Cell::Suppressed))
}

fn cell_html(c: &Cell) -> String {
    match c {
        Cell::Count(v) => format!("{v}"),
        Cell::Suppressed => {
            r#"<span class="sup" title="withheld to protect small counts: see the key and the notes">&lt;11</span>"#
                .into()
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
    // Many columns: in print the table takes the page's width, in equal columns that wrap.
    let wide = if t.columns.len() + usize::from(t.row_totals) > 6 { r#" class="wide""# } else { "" };
    let mut h = format!(r#"<div class="scroll"><table{wide}><thead><tr><th></th>"#);
    for c in &t.columns {
        let _ = write!(h, r#"<th scope="col"><span class="h">{}</span></th>"#, labelled(column_word(&t.id, c), c));
    }
    if t.row_totals {
        h.push_str(r#"<th scope="col"><span class="h">Total</span></th>"#);
    }
    h.push_str("</tr></thead><tbody>");
    for (r, row) in t.cells.iter().enumerate() {
        let (label, class) = match t.rows.get(r) {
            Some(label) => (labelled(row_word(label), label), ""),
            None => ("Total".to_owned(), r#" class="total""#),
        };
        let _ = write!(h, r#"<tr{class}><th scope="row">{label}</th>"#);
        for c in row {
            let _ = write!(h, "<td>{}</td>", cell_html(c));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
    h
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-top:1px solid #ddd;padding-top:1em}h3{font-size:1em;margin:1em 0 .3em}\
.tid{color:#555;font-weight:normal;margin-right:.3em}\
.scroll{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right;vertical-align:top}\
td,tbody th{white-space:nowrap}th:first-child{text-align:left}thead th{vertical-align:bottom}\
tr.total{font-weight:bold;background:#f6f6f6}.sup{color:#777;font-style:italic}\
.raw{display:block;font:normal .72em ui-monospace,monospace;color:#888;overflow-wrap:anywhere}\
.noisy small{color:#666}.meta{font-size:.88em;color:#444}.warn{color:#a00;font-weight:bold}\
code{font-size:.9em;overflow-wrap:anywhere}\
svg.defs{position:absolute;width:0;height:0;overflow:hidden}\
svg.chart{display:block;max-width:100%;height:auto}figure{margin:.5em 0}\
.notice{border:1px solid #bbb;border-left:6px solid #999;background:#f6f6f6;padding:.6em 1em;margin:.6em 0;max-width:40em}\
dl.summary{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25em 1.2em;margin:.5em 0}dl.summary dt{font-weight:bold}dl.summary dd{margin:0}\
ul.plain{margin:.3em 0;padding-left:1.2em}\
nav.toc ol{columns:2 22em;column-gap:2em;margin:.3em 0;padding-left:1.6em}nav.toc li{break-inside:avoid}\
.tag{font-size:.8em;color:#555;border:1px solid #bbb;border-radius:3px;padding:0 .3em;margin-left:.3em;white-space:nowrap}\
table.kv{table-layout:fixed;width:100%}table.kv th{width:13em;text-align:left}table.kv td{text-align:left;white-space:normal}\
@media print{\
body{max-width:none;margin:0;padding:0;font-size:10pt}\
h2{margin-top:1.2em;break-after:avoid}h3,p.meta{break-after:avoid}\
.scroll{overflow:visible}\
table{font-size:7.5pt}table td,table th{padding:1px 3px;white-space:normal;overflow-wrap:anywhere}\
table.wide thead th .h{display:inline-block;writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;white-space:nowrap;overflow-wrap:normal}\
table.wide thead th .h .raw{display:inline;margin-top:.4em}\
thead{display:table-header-group}tr{break-inside:avoid}\
section.keep,figure,.scroll,.notice,table.kv,dl.summary{break-inside:avoid}\
nav.toc ol{columns:2}a{color:inherit;text-decoration:none}\
}";

/// A fragment id for table `id`: letters, digits and `-` only, made unique on the page.
fn anchor(id: &str, used: &mut BTreeSet<String>) -> String {
    let safe: String =
        id.chars().take(40).map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let base = format!("t-{safe}");
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// "December 2025 (2025-12)".
fn period_html(p: Period) -> String {
    format!(r#"{} <small class="raw" style="display:inline">{p}</small>"#, words::period(p))
}

fn signature_html(r: &SignedReport) -> String {
    match r.origin {
        Origin::Registered => "verified against the registry".to_owned(),
        Origin::Unchecked => {
            r#"<span class="warn">valid, but NOT checked against a registry: anyone could have made it</span>"#
                .to_owned()
        }
    }
}

/// The summary at the top: who, when, how protected, what is on the page, and its contents.
fn summary(reports: &[SignedReport], tables: &[Table], notes: &[String], anchors: &[String]) -> String {
    let merged = reports.len() > 1;
    let mut h = String::from(r#"<section class="summary" id="summary"><h2>Summary</h2><dl class="summary">"#);
    // Providers and their signatures.
    let _ = write!(h, "<dt>{}</dt><dd>", if merged { "Providers" } else { "Provider" });
    if merged {
        h.push_str(r#"<ul class="plain">"#);
    }
    for r in reports {
        if merged {
            let _ = write!(h, "<li><strong>{}</strong>: signature {}</li>", esc(&r.report.provider), signature_html(r));
        } else {
            let _ = write!(h, "<strong>{}</strong>", esc(&r.report.provider));
        }
    }
    if merged {
        h.push_str("</ul>");
    }
    h.push_str("</dd>");
    let periods: BTreeSet<Period> = reports.iter().map(|r| r.report.period).collect();
    let periods: Vec<String> = periods.into_iter().map(period_html).collect();
    let _ = write!(
        h,
        "<dt>Report period</dt><dd>{}</dd>",
        if periods.is_empty() { "-".into() } else { periods.join(", ") }
    );
    let unchecked = reports.iter().filter(|r| r.origin == Origin::Unchecked).count();
    let signatures = match (reports, unchecked) {
        ([one], _) => signature_html(one),
        (_, 0) => format!("all {} verified against the registry", reports.len()),
        (_, u) => format!(r#"<span class="warn">{u} of {} NOT checked against a registry</span>"#, reports.len()),
    };
    let _ = write!(h, "<dt>{}</dt><dd>{signatures}</dd>", if merged { "Signatures" } else { "Signature" });
    // The method: once when every report used the same.
    let methods: Vec<Method> = reports.iter().map(|r| r.report.method).fold(Vec::new(), |mut v, m| {
        if !v.contains(&m) {
            v.push(m);
        }
        v
    });
    h.push_str("<dt>Disclosure control</dt><dd>");
    match methods.as_slice() {
        [one] => {
            let _ = write!(h, "{}.", words::method(one));
        }
        _ => {
            h.push_str(r#"<ul class="plain">"#);
            for r in reports {
                let _ = write!(h, "<li>{}: {}.</li>", esc(&r.report.provider), words::method(&r.report.method));
            }
            h.push_str("</ul>");
        }
    }
    for r in reports.iter().filter(|r| r.report.rho_micros > 0) {
        let whose = if merged { format!("{}&#39;s report", esc(&r.report.provider)) } else { "This report".into() };
        let _ = write!(
            h,
            " {whose} spent ρ = {} of the provider&#39;s privacy budget.",
            words::micros(r.report.rho_micros)
        );
    }
    h.push_str("</dd>");
    // What is on the page and what is not.
    let whole = tables.iter().filter(|t| withheld_whole(t)).count();
    let mut left_out: Vec<String> = Vec::new();
    for r in reports {
        for o in &r.report.omitted {
            left_out.push(if merged { format!("{}: {}", esc(&r.report.provider), esc(o)) } else { esc(o) });
        }
    }
    let omitted: BTreeSet<&String> = reports.iter().flat_map(|r| &r.report.omitted).collect();
    let mut other_notes = Vec::new();
    for n in notes.iter().filter(|n| !omitted.contains(n)) {
        // `report merge` says "not merged: ..." of a table it could not merge.
        if n.starts_with("not merged: ") {
            left_out.push(esc(n));
        } else {
            other_notes.push(esc(n));
        }
    }
    let _ = write!(
        h,
        "<dt>Tables</dt><dd>{} on this page: {} with their cells, {whole} withheld whole (to protect small \
         counts; the notes say why when it is not too few people); {} {}{}</dd>",
        tables.len(),
        tables.len() - whole,
        left_out.len(),
        if merged { "left out by a provider or not merged" } else { "left out of the report" },
        if left_out.is_empty() { "." } else { ":" }
    );
    if !left_out.is_empty() {
        h.push_str(r#"<dt class="sub">Left out</dt><dd><ul class="plain">"#);
        for l in &left_out {
            let _ = write!(h, "<li>{l}</li>");
        }
        h.push_str("</ul></dd>");
    }
    if !other_notes.is_empty() {
        h.push_str(r#"<dt>Notes</dt><dd><ul class="plain">"#);
        for n in &other_notes {
            let _ = write!(h, "<li>{n}</li>");
        }
        h.push_str("</ul></dd>");
    }
    h.push_str("</dl>");
    // Contents.
    h.push_str(r#"<nav class="toc" aria-label="Contents"><h3>Contents</h3><ol>"#);
    for (t, a) in tables.iter().zip(anchors) {
        let tag = if withheld_whole(t) { r#"<span class="tag">withheld whole</span>"# } else { "" };
        let _ =
            write!(h, r##"<li><a href="#{a}"><span class="tid">{}</span>{}</a>{tag}</li>"##, esc(&t.id), esc(&t.title));
    }
    h.push_str("</ol></nav></section>");
    h
}

/// Each bundle's provenance: signer, policy, method, log head, budget, funded slots.
fn provenance(reports: &[SignedReport]) -> String {
    let mut h = String::from(r#"<section class="meta provenance"><h2>Provenance</h2>"#);
    for r in reports {
        let rep = &r.report;
        let sig = match r.origin {
            Origin::Registered => format!("verified against the registry: <code>{}</code>", esc(&r.signer)),
            Origin::Unchecked => format!(
                r#"<span class="warn">valid, but NOT checked against a registry</span> <code>{}</code>"#,
                esc(&r.signer)
            ),
        };
        let _ = write!(
            h,
            r#"<table class="kv"><tbody><tr><th scope="row">Provider</th><td><strong>{}</strong></td></tr><tr><th scope="row">Period</th><td>{}</td></tr><tr><th scope="row">Signature</th><td>{sig}</td></tr><tr><th scope="row">Policy</th><td><code>{}</code></td></tr><tr><th scope="row">Method</th><td>{}</td></tr><tr><th scope="row">Disclosure-log head</th><td><code>{}</code></td></tr>"#,
            esc(&rep.provider),
            period_html(rep.period),
            esc(&rep.policy),
            words::method(&rep.method),
            esc(rep.log_head.as_deref().unwrap_or("-"))
        );
        if let Some(rev) = &rep.revision {
            let _ = write!(
                h,
                r#"<tr><th scope="row">Revision</th><td><strong>{}</strong>: {}</td></tr>"#,
                rev.number,
                esc(&rev.reason)
            );
        }
        if rep.rho_micros > 0 || matches!(rep.method, Method::Noise { .. }) {
            let _ = write!(
                h,
                r#"<tr><th scope="row">Privacy budget spent</th><td>ρ = {}</td></tr>"#,
                words::micros(rep.rho_micros)
            );
        }
        if !rep.capacity.is_empty() {
            let slots: Vec<String> = rep.capacity.iter().map(|(s, n)| format!("{}: {n}", esc(s))).collect();
            let _ = write!(h, r#"<tr><th scope="row">Funded slots</th><td>{}</td></tr>"#, slots.join("; "));
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");
    h
}

/// How to read the cells that appear on the page.
fn key(tables: &[Table]) -> String {
    let cells = || tables.iter().filter(|t| !withheld_whole(t)).flat_map(|t| t.cells.iter().flatten());
    let mut items = Vec::new();
    if cells().any(|c| matches!(c, Cell::Suppressed)) {
        items.push(
            "<span class=\"sup\">&lt;11</span>: withheld. The cell holds 1 to 10 persons or events, or is hidden so that \
             such a cell cannot be worked out from the totals. A cell withheld so that a row is not shown to sit \
             wholly in one column, or in a table withheld whole for the reason its notes give, may hold any count. \
             It is never estimated here; in the charts it is a short hatched bar.",
        );
    }
    if cells().any(|c| matches!(c, Cell::Bound { .. })) {
        items.push(
            "<span class=\"sup\">a..b</span> (merged totals): some provider withheld its part, so only the range is \
             known, drawn as a hatched range.",
        );
    }
    if cells().any(|c| matches!(c, Cell::Noisy { .. })) {
        items.push(
            "<span class=\"noisy\">v <small>±h</small></span>: a noisy value; the true value lies within h of it \
             with probability 95&nbsp;%. The chart draws the interval as a line through the bar.",
        );
    }
    if cells().any(|c| matches!(c, Cell::Estimate { .. })) {
        items.push(
            "<span class=\"noisy\">v <small>[a, b] p&nbsp;%</small></span>: a noisy value, never below 0, and an \
             interval that holds the true count with probability at least p&nbsp;%. A total is the sum of the values \
             shown beside it; a merged total&#39;s interval is the sum of its parts&#39; (5&nbsp;% less per noisy \
             part).",
        );
    }
    if items.is_empty() {
        return String::new();
    }
    let mut h = String::from(r#"<section class="meta key"><h2>Reading the cells</h2><ul class="plain">"#);
    for i in items {
        let _ = write!(h, "<li>{i}</li>");
    }
    h.push_str("</ul></section>");
    h
}

/// One table's section: heading, what it covers in words, and its chart and grid (or one notice
/// when it is withheld whole).
fn section(t: &Table, anchor: &str, merged: bool) -> String {
    let whole = withheld_whole(t);
    // Small sections stay on one printed page.
    let keep = t.rows.len() * t.columns.len().max(1) <= 24 || whole;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<section class="indicator{}{}" id="{anchor}" data-table="{}" data-indicator="{}"><h2><span class="tid">{}</span>{}</h2>"#,
        if keep { " keep" } else { "" },
        if whole { " withheld" } else { "" },
        esc(&t.id),
        t.indicator,
        esc(&t.id),
        esc(&t.title),
    );
    let covers = match words::covers(t.grain, &t.covers) {
        Some(w) => format!(r#"{} <small class="raw" style="display:inline">{}</small>"#, esc(&w), esc(&t.covers)),
        None => esc(&t.covers),
    };
    let rows = match words::geography(&t.geography, merged) {
        Some(w) => format!(r#"<span title="geography: {}">{w}</span>"#, esc(&t.geography)),
        None => format!("geography {}", esc(&t.geography)),
    };
    let unit = match words::unit(&t.unit) {
        Some(w) => format!(r#"<span title="unit: {}">each cell counts {w}</span>"#, esc(&t.unit)),
        None => format!("unit {}", esc(&t.unit)),
    };
    let cap = t.event_cap.map(|n| format!(" · at most {n} events per person per cell")).unwrap_or_default();
    let _ = write!(
        h,
        r#"<p class="meta">Indicator {} · {} table, {covers} · {rows} · {unit}{cap}</p>"#,
        t.indicator,
        words::grain(t.grain),
    );
    if whole {
        h.push_str(
            r#"<p class="notice"><strong>Withheld whole to protect small counts</strong> (too few people to protect cell by cell, or a rule the notes name). No cell of this table is published.</p>"#,
        );
    } else {
        let _ = write!(h, "<figure>{}</figure>", chart::chart(t));
        h.push_str(&table_html(t));
    }
    h.push_str("</section>");
    h
}

/// The whole page.
pub fn page(title: &str, reports: &[SignedReport], tables: &[Table], notes: &[String]) -> String {
    let mut used = BTreeSet::new();
    let anchors: Vec<String> = tables.iter().map(|t| anchor(&t.id, &mut used)).collect();
    let merged = reports.len() > 1;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{STYLE}</style></head><body>{}<h1>{}</h1>"#,
        esc(title),
        chart::DEFS,
        esc(title)
    );
    h.push_str(&summary(reports, tables, notes, &anchors));
    h.push_str(&provenance(reports));
    h.push_str(&key(tables));
    for (t, a) in tables.iter().zip(&anchors) {
        h.push_str(&section(t, a, merged));
    }
    h.push_str("</body></html>\n");
    h
}
