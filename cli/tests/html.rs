//! The HTML report renders in headless Chromium (Debian's `chromium`). What the board's page must
//! do, each checked on pages the real CLI writes (issue #15):
//!
//! 1. Wide tables fit: at an 800 px viewport the document is no wider than the viewport (a wide
//!    table scrolls inside its own box), and with the page's `@media print` rules applied on
//!    screen at 718 px (an A4 page at 96 px/in less 1 cm margins; Letter is wider) nothing is
//!    wider than the page. `--print-to-pdf` succeeds too (the PDF's own layout is not inspected).
//! 2. At least 12 distinguishable colours, and bars labelled with their column.
//! 3. A table withheld whole is one notice: no chart, no grid.
//! 4. Identifiers in words, with the raw identifier kept beside them.
//! 5. The disclosure method in words, not JSON.
//! 6. A summary first: providers, period, signatures, method, counts, and a table of contents.
//!
//! Screenshots and PDFs of each page are kept in the test's output folder
//! (CARGO_TARGET_TMPDIR/html-report).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly on purpose"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::provider;

/// Runs `caseward ARGS` in `dir`; every command here must succeed.
fn run(dir: &Path, args: &[&str]) -> Output {
    let out = common::run(dir, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn chromium() -> &'static str {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return candidate;
        }
    }
    panic!("headless Chromium is required (.ci/run installs Debian's chromium)");
}

const HEADLESS: [&str; 5] =
    ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"];

fn url(page: &Path) -> String {
    format!("file://{}", page.display())
}

/// Runs headless Chromium with `args`; it must succeed.
fn chrome(args: &[&str]) -> Output {
    let out = Command::new(chromium()).args(HEADLESS).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Loads the page in headless Chromium and returns the DOM it built; writes a screenshot
/// `width` pixels wide.
fn render(page: &Path, screenshot: &Path, width: u32) -> String {
    let dom = chrome(&["--dump-dom", &url(page)]);
    chrome(&[&format!("--screenshot={}", screenshot.display()), &format!("--window-size={width},2400"), &url(page)]);
    assert!(std::fs::metadata(screenshot).unwrap().len() > 10_000, "a real screenshot");
    String::from_utf8(dom.stdout).unwrap()
}

/// Measures the page's layout in Chromium at `width` px: (document width, boxes that scroll
/// sideways, elements sticking out of the viewport outside any scrolling box). The page has no
/// script of its own; a copy gets one that writes the figures into the DOM. With `print`, the
/// copy applies the page's `@media print` rules on screen, which is how the layout of a printed
/// page is measured (Chromium cannot dump the DOM of a print layout).
fn measure(page: &Path, width: u32, print: bool) -> (u32, usize, String) {
    const SCRIPT: &str = r"<script>(function(){
var w=window.innerWidth,bad=[];
function clipped(e){for(var p=e.parentElement;p&&p!==document.body;p=p.parentElement){if(getComputedStyle(p).overflowX!=='visible')return true;}return false;}
document.querySelectorAll('body *').forEach(function(e){var r=e.getBoundingClientRect();
 if(r.width>0&&r.right>w+0.5&&!clipped(e)&&bad.length<5)bad.push(e.tagName+'.'+e.getAttribute('class')+'@'+Math.round(r.right));});
var s=0;document.querySelectorAll('.scroll').forEach(function(e){if(e.scrollWidth>e.clientWidth)s++;});
document.documentElement.setAttribute('data-measure',document.documentElement.scrollWidth+'|'+w+'|'+s+'|'+bad.join(','));
})();</script>";
    let html = std::fs::read_to_string(page).unwrap();
    assert_eq!(html.matches("@media print{").count(), 1, "one block of print rules");
    let html = if print { html.replace("@media print{", "@media all{") } else { html };
    let copy = page.with_extension(if print { "print-measure.html" } else { "screen-measure.html" });
    std::fs::write(&copy, html.replace("</body>", &format!("{SCRIPT}</body>"))).unwrap();
    let dom = chrome(&["--dump-dom", &format!("--window-size={width},1200"), &url(&copy)]);
    let dom = String::from_utf8(dom.stdout).unwrap();
    let figures = dom.split("data-measure=\"").nth(1).and_then(|s| s.split('"').next()).expect("measured");
    let parts: Vec<&str> = figures.split('|').collect();
    assert_eq!(parts[1], width.to_string(), "the viewport is as asked");
    (parts[0].parse().unwrap(), parts[2].parse().unwrap(), parts[3].to_owned())
}

/// One `<section class="indicator ...">` of the rendered page.
struct Section<'a> {
    id: String,
    table: String,
    indicator: u32,
    withheld: bool,
    html: &'a str,
}

fn attr(tag: &str, name: &str) -> String {
    tag.split(&format!(" {name}=\"")).nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_owned()
}

fn sections(dom: &str) -> Vec<Section<'_>> {
    dom.split(r#"<section class="indicator"#)
        .skip(1)
        .map(|s| {
            let html = s.split("</section>").next().unwrap();
            let tag = format!("<section class=\"indicator{}", html.split('>').next().unwrap());
            Section {
                id: attr(&tag, "id"),
                table: attr(&tag, "data-table"),
                indicator: attr(&tag, "data-indicator").parse().unwrap(),
                withheld: attr(&tag, "class").split(' ').any(|c| c == "withheld"),
                html,
            }
        })
        .collect()
}

/// The section of table `id`.
fn table<'a>(all: &'a [Section<'a>], id: &str) -> &'a Section<'a> {
    all.iter().find(|s| s.table == id).unwrap_or_else(|| panic!("table {id} on the page"))
}

/// The `fill` of each bar drawn in a chart (hatched withheld bars aside).
fn bar_fills(html: &str) -> Vec<String> {
    html.split("<rect class=\"bar")
        .skip(1)
        .map(|s| attr(s.split('>').next().unwrap(), "fill"))
        .filter(|f| !f.starts_with("url("))
        .collect()
}

/// The visible text of each column header (tags and the small raw identifier removed).
fn column_headers(html: &str) -> Vec<String> {
    html.split("<th scope=\"col\">")
        .skip(1)
        .map(|s| {
            let cell = s.split("</th>").next().unwrap();
            let shown = cell.split("<small class=\"raw\">").next().unwrap();
            let mut text = String::new();
            let mut in_tag = false;
            for c in shown.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

/// What every page must show, whatever its tables: checks 3, 4 (labels present on the page) and 6.
fn check_page<'a>(dom: &'a str, providers: &[&str]) -> Vec<Section<'a>> {
    let all = sections(dom);
    assert!(!all.is_empty());
    // 6: the summary comes first, names every provider, and its contents link every table once,
    // in order.
    let summary =
        dom.split(r#"<section class="summary""#).nth(1).expect("a summary").split("</section>").next().unwrap();
    assert!(dom.find(r#"<section class="summary""#) < dom.find(r#"<section class="indicator"#), "summary first");
    for p in providers {
        assert!(summary.contains(p), "{p} in the summary");
    }
    assert!(summary.contains("Report period") && summary.contains("Disclosure control"));
    assert!(summary.contains("verified against the registry"), "signatures in the summary");
    let links: Vec<String> =
        summary.split("<a href=\"#").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect();
    let ids: Vec<String> = all.iter().map(|s| s.id.clone()).collect();
    assert_eq!(links, ids, "the contents link every table, in order");
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "unique anchors");
    let whole = all.iter().filter(|s| s.withheld).count();
    let counts = format!(
        "<dt>Tables</dt><dd>{} on this page: {} with their cells, {whole} withheld whole",
        all.len(),
        all.len() - whole
    );
    assert!(summary.contains(&counts), "{counts} in: {summary}");
    // 3: a table withheld whole is one notice; every other table has a chart with bars and a grid.
    for s in &all {
        if s.withheld {
            assert!(!s.html.contains("<table") && !s.html.contains("<svg"), "{}: no grid, no chart", s.table);
            assert_eq!(s.html.matches("class=\"notice\"").count(), 1, "{}: one notice", s.table);
            assert!(s.html.contains("Withheld whole to protect small counts"));
            assert!(!s.html.contains("&lt;11"), "{}: no <11 stubs", s.table);
        } else {
            assert!(s.html.contains(r#"<svg class="chart""#) && s.html.contains("<rect class=\"bar"), "{}", s.table);
            assert_eq!(s.html.matches("<table").count(), 1, "{}: one grid", s.table);
        }
    }
    // 4: geography and units in words; no column header shows a raw identifier.
    assert!(dom.contains("one row per") && dom.contains("each cell counts people"));
    for s in &all {
        for h in column_headers(s.html) {
            assert!(!h.contains('_'), "{}: raw identifier {h:?} shown as a header", s.table);
            assert!(
                !caseward::report::indicator::NATIONALITIES.contains(&h.as_str())
                    && !caseward::report::indicator::LANGUAGES.contains(&h.as_str()),
                "{}: raw code {h:?} shown as a header",
                s.table
            );
        }
    }
    // 5: the method is words, never the signed JSON.
    assert!(!dom.contains("{\"name\"") && !dom.contains("{&quot;name"), "no method JSON");
    all
}

#[test]
fn the_html_report_renders_a_chart_per_table_in_headless_chromium() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let recipient = String::from_utf8(run(d, &["keygen", "-o", "board.key"]).stdout).unwrap().trim().to_owned();
    let ny = provider(d, "ny.cwv", "irc-new-york", 41, 900);
    let hou = provider(d, "hou.cwv", "bakerripley-houston", 42, 400);
    std::fs::write(d.join("registry.toml"), format!("[providers]\n{ny}\n{hou}\n")).unwrap();
    let mut all_indicators = BTreeSet::new();
    let mut withheld_seen = 0;
    let mut marked = false;
    // June first: a quarter's flows (03, 04, 18) count the sites the board holds for every month
    // of the quarter and the month before it, so September's need June's release (and July's and
    // August's, below).
    for period in ["2026-06", "2026-07", "2026-08"] {
        for (vault, id) in [("ny.cwv", "ny"), ("hou.cwv", "hou")] {
            let out = format!("{id}-{period}.age");
            run(d, &["report", "build", vault, "--period", period, "--to", &recipient, "-o", &out]);
        }
    }
    for (period, extra) in
        [("2025-12", vec!["--declined", "site-nyc=14"]), ("2026-09", vec!["--expenditure", "site-nyc=1200000"])]
    {
        for (vault, id) in [("ny.cwv", "ny"), ("hou.cwv", "hou")] {
            let mut args = vec!["report", "build", vault, "--period", period, "--to", &recipient];
            let out = format!("{id}-{period}.age");
            args.extend(["-o", &out]);
            args.extend(extra.iter().copied());
            run(d, &args);
        }
        let page = out_dir.join(format!("irc-new-york-{period}.html"));
        let ny_bundle = format!("ny-{period}.age");
        run(
            d,
            &[
                "report",
                "open",
                &ny_bundle,
                "-i",
                "board.key",
                "--providers",
                "registry.toml",
                "--html",
                page.to_str().unwrap(),
            ],
        );
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "self-contained");
        let dom = render(&page, &out_dir.join(format!("irc-new-york-{period}.png")), 1100);
        let all = check_page(&dom, &["irc-new-york"]);
        // 2025-12 is each vault's first quarter: its flows cover no site and are left out.
        assert!(all.len() >= 18, "{period}: {} tables", all.len());
        assert!(dom.contains("cwlog1:"), "log head shown");
        marked |= dom.contains("<span class=\"sup\"") && dom.contains("&lt;11");
        // 5: suppression in words.
        assert!(dom.contains(
            "Small-cell suppression: counts of 1 to 10 are withheld (k = 11), with complementary cells withheld too"
        ));
        // 6: what the report left out, with its reason.
        assert!(dom.contains("02: needs the count of declined offers per site") == (period == "2026-09"));
        withheld_seen += all.iter().filter(|s| s.withheld).count();
        all_indicators.extend(all.iter().map(|s| s.indicator));
        if period == "2025-12" {
            // 4: caseward's identifiers in words, the raw identifier beside them (07b is shown;
            // 20a and 20b are withheld whole at this size, and checked on the noisy page).
            for word in ["Legal orientation", "Health-care enrollment", ">ITIN<"] {
                assert!(table(&all, "07b").html.contains(word), "{word}");
            }
            for raw in ["legal_orientation", "health_enrollment"] {
                assert!(dom.contains(&format!("<small class=\"raw\">{raw}</small>")), "{raw} kept visible");
            }
            assert!(dom.contains("title=\"itin\""), "itin kept as the tooltip");
            assert!(dom.contains("one row per site") && dom.contains("one row for all the provider's sites"));
            assert!(dom.contains("October to December 2025"), "a quarter in words");
        }

        let merged = out_dir.join(format!("national-{period}.html"));
        let hou_bundle = format!("hou-{period}.age");
        run(
            d,
            &[
                "report",
                "merge",
                &ny_bundle,
                &hou_bundle,
                "-i",
                "board.key",
                "--providers",
                "registry.toml",
                "--html",
                merged.to_str().unwrap(),
            ],
        );
        let dom = render(&merged, &out_dir.join(format!("national-{period}.png")), 1100);
        let all = check_page(&dom, &["irc-new-york", "bakerripley-houston"]);
        assert!(all.len() > 15, "merged {period}: {} tables", all.len());
        assert!(dom.contains("one row per provider and site"));

        // 1: the merged page, with its widest tables, at a narrow screen and on paper.
        let (doc, scrolling, sticking_out) = measure(&merged, 800, false);
        assert!(doc <= 800 && sticking_out.is_empty(), "{period} at 800 px: {doc} px wide; {sticking_out}");
        let (doc, _, sticking_out) = measure(&merged, 718, true);
        assert!(doc <= 718 && sticking_out.is_empty(), "{period} printed: {doc} px wide; {sticking_out}");
        let pdf = out_dir.join(format!("national-{period}.pdf"));
        chrome(&["--no-pdf-header-footer", &format!("--print-to-pdf={}", pdf.display()), &url(&merged)]);
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"), "a PDF");
        eprintln!("{period}: at 800 px, {scrolling} wide table(s) scroll in their own box");
        if period == "2025-12" {
            assert!(scrolling >= 1, "a table wider than 800 px scrolls in its own box");
            render(&merged, &out_dir.join(format!("national-{period}-800px.png")), 800);
        }
    }
    assert!(withheld_seen >= 1, "a table withheld whole was seen");
    assert!(marked, "suppressed cells of the tables shown are marked <11");
    assert_eq!(all_indicators, (1..=21).collect(), "every indicator is on a page across the year's reports");
    eprintln!("pages and screenshots: {}", out_dir.display());
}

#[test]
fn a_noisy_report_states_its_method_and_tells_twelve_series_apart() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report-noise");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let recipient = String::from_utf8(run(d, &["keygen", "-o", "board.key"]).stdout).unwrap().trim().to_owned();
    let ny = provider(d, "ny.cwv", "irc-new-york", 41, 900);
    std::fs::write(d.join("registry.toml"), format!("[providers]\n{ny}\n")).unwrap();
    // December carries every yearly table; epsilon 1/5 per table keeps it within the budget.
    run(
        d,
        &[
            "report",
            "build",
            "ny.cwv",
            "--period",
            "2025-12",
            "--to",
            &recipient,
            "-o",
            "ny.age",
            "--method",
            "laplace:1/5",
        ],
    );
    let page: PathBuf = out_dir.join("irc-new-york-noise-2025-12.html");
    run(
        d,
        &[
            "report",
            "open",
            "ny.age",
            "-i",
            "board.key",
            "--providers",
            "registry.toml",
            "--html",
            page.to_str().unwrap(),
        ],
    );
    let dom = render(&page, &out_dir.join("irc-new-york-noise-2025-12.png"), 1100);
    let all = check_page(&dom, &["irc-new-york"]);
    // 5: noise in words, the budget the report spent, and each events table's cap.
    assert!(dom.contains(
        "Differential privacy: discrete Laplace noise, ε = 1/5 per table; each noisy cell shows a value, never below \
         0, and an interval [low, high] that holds the true count with probability 95 %"
    ));
    assert!(dom.contains("This report spent ρ = ") && dom.contains("of the provider's privacy budget"));
    let t07a = table(&all, "07a");
    assert!(t07a.html.contains("at most 10 events per person per cell"), "07a states its cap");
    // 2: no cell is withheld under noise, so every bar is drawn: 20a's 13 columns get 13 distinct
    // fills, at least 12 of them distinct colours of the palette, and each bar names its column.
    let t20a = table(&all, "20a");
    let fills: BTreeSet<String> = bar_fills(t20a.html).into_iter().collect();
    assert!(fills.len() >= 12, "{} distinct fills: {fills:?}", fills.len());
    assert_eq!(fills.len(), 13, "{fills:?}");
    for label in ["Mexico: ", "Afghanistan: ", "Other or not recorded: "] {
        assert!(t20a.html.contains(label), "bars labelled: {label}");
    }
    let swatches: BTreeSet<String> =
        t20a.html.split("<rect class=\"swatch\"").skip(1).map(|s| attr(s.split('>').next().unwrap(), "fill")).collect();
    assert_eq!(swatches, fills, "the legend shows the same 13 fills");
    // 4: nationality and language codes in words, the code beside them.
    for word in [">Mexico<", ">El Salvador<", ">Spanish<", ">Dari<", ">Haitian Creole<"] {
        assert!(dom.contains(word), "{word}");
    }
    assert!(dom.contains("K'iche'") || dom.contains("K&#39;iche&#39;"), "K'iche'");
    for raw in ["MX", "SV", "es", "prs", "quc", "legal_orientation"] {
        assert!(dom.contains(&format!("<small class=\"raw\">{raw}</small>")), "{raw} kept visible");
    }
    assert!(t20a.html.contains("url(#tex-stripes)") && t20a.html.contains("url(#tex-dots)"), "textures too");
    // 1: this page too fits a narrow screen and paper.
    let (doc, _, out) = measure(&page, 800, false);
    assert!(doc <= 800 && out.is_empty(), "at 800 px: {doc} px wide; {out}");
    let (doc, _, out) = measure(&page, 718, true);
    assert!(doc <= 718 && out.is_empty(), "printed: {doc} px wide; {out}");
}
