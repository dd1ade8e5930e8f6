//! The HTML report renders in headless Chromium (Debian's `chromium`): one chart per table, every
//! indicator across the year's reports, suppressed cells marked, provenance shown. A screenshot
//! of each page is kept in the test's output folder (CARGO_TARGET_TMPDIR).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly on purpose"
)]

use std::collections::BTreeSet;
use std::path::Path;
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

/// Loads the page in headless Chromium and returns the DOM it built; writes a screenshot.
fn render(page: &Path, screenshot: &Path) -> String {
    let url = format!("file://{}", page.display());
    let common =
        ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"];
    let dom = Command::new(chromium()).args(common).args(["--dump-dom", &url]).output().unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let shot = Command::new(chromium())
        .args(common)
        .arg(format!("--screenshot={}", screenshot.display()))
        .args(["--window-size=1100,2400", &url])
        .output()
        .unwrap();
    assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
    assert!(std::fs::metadata(screenshot).unwrap().len() > 10_000, "a real screenshot");
    String::from_utf8(dom.stdout).unwrap()
}

/// (tables, charts with bars, indicator numbers) found in a rendered page.
fn inspect(dom: &str) -> (usize, usize, BTreeSet<u32>) {
    let sections: Vec<&str> = dom.split(r#"<section class="indicator""#).skip(1).collect();
    let charts =
        sections.iter().filter(|s| s.contains(r#"<svg class="chart""#) && s.contains("<rect class=\"bar")).count();
    let indicators = sections
        .iter()
        .filter_map(|s| s.split("indicator ").nth(1))
        .filter_map(|s| s.split(' ').next())
        .filter_map(|n| n.parse().ok())
        .collect();
    (sections.len(), charts, indicators)
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
        let dom = render(&page, &out_dir.join(format!("irc-new-york-{period}.png")));
        let (tables, charts, indicators) = inspect(&dom);
        assert!(tables >= 20, "{period}: {tables} tables");
        assert_eq!(charts, tables, "{period}: one chart with bars per table");
        assert!(dom.contains("verified against the registry"), "provenance shown");
        assert!(dom.contains("cwlog1:"), "log head shown");
        assert!(dom.contains("&lt;11"), "suppressed cells are marked");
        all_indicators.extend(indicators);

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
        let dom = render(&merged, &out_dir.join(format!("national-{period}.png")));
        let (tables, charts, _) = inspect(&dom);
        assert!(tables > 15 && charts == tables, "merged {period}: {charts} charts for {tables} tables");
        assert!(dom.contains("irc-new-york") && dom.contains("bakerripley-houston"));
    }
    assert_eq!(all_indicators, (1..=21).collect(), "every indicator has a chart across the year's reports");
    eprintln!("pages and screenshots: {}", out_dir.display());
}
