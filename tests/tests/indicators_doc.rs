//! `docs/indicators.md` and the code list the same tables, in the same order.
#![allow(clippy::unwrap_used, reason = "tests")]

#[test]
fn the_indicator_document_lists_every_table_the_code_builds() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/indicators.md")).unwrap();
    let documented: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .filter(|id| id.len() <= 3 && id.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(documented, caseward::report::indicator::table_ids());
    // Every one of the 21 indicators has at least one table.
    let covered: std::collections::BTreeSet<u32> =
        documented.iter().map(|id| id.trim_end_matches(char::is_alphabetic).parse().unwrap()).collect();
    assert_eq!(covered, (1..=21).collect());
}
