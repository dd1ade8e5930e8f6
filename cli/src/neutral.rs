//! Neutralising text a provider controls (provider ids, site, table and column labels, notes)
//! before it reaches the board's terminal, CSV files or JSON output. A bundle is signed, but
//! signing says who wrote it, not that what they wrote is harmless.
//!
//! * Terminal: every control character becomes a visible escape (`\x1b`, `\x0a`, `\u{202e}`),
//!   so a label can neither move the cursor, clear the screen nor re-title the window, nor
//!   reorder the text around it with bidirectional controls.
//! * CSV: the same, and a cell that a spreadsheet would read as a formula (it starts with `=`,
//!   `+`, `-`, `@`, a tab or a carriage return, after any spaces) gets a leading `'`, as OWASP's
//!   CSV-injection guidance says.
//! * JSON: serde_json already escapes C0; DEL, C1 and bidirectional controls are escaped too.

use std::fmt::Write as _;

/// Whether a character must not reach a terminal as it is: C0, DEL and C1 controls, and the
/// invisible characters that reorder or break lines or shift columns (bidirectional
/// embeddings, overrides, isolates and marks, the Arabic letter mark, line and paragraph
/// separators, zero-width spaces and joiners, the word joiner and the byte-order mark).
fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// The text with every hazardous character replaced by a visible escape. Newlines too: no
/// provider-controlled string is meant to span lines.
pub fn term(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !is_hazard(c) {
            out.push(c);
        } else if u32::from(c) < 0x100 {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    out
}

/// One CSV field: [`term`], then a leading `'` if a spreadsheet would take it for a formula.
pub fn csv_field(text: &str) -> String {
    let visible = term(text);
    let first = text.trim_start_matches(' ').chars().next();
    // Full-width forms too: some spreadsheets fold them to their ASCII twins.
    let formula = matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠'));
    if formula {
        format!("'{visible}")
    } else {
        visible
    }
}

/// JSON text with DEL, C1 and the reordering characters escaped as `\uXXXX` (serde_json
/// escapes C0 itself). They can only occur inside strings, where the escape means the same.
pub fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hazard(c) && u32::from(c) >= 0x20 {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_shows_controls_as_escapes() {
        assert_eq!(term("site-nyc"), "site-nyc");
        assert_eq!(term("Zürich · 東京"), "Zürich · 東京");
        // Invisible characters that flip a row's direction or shift its columns.
        assert_eq!(term("a\u{61c}b\u{200b}c\u{2060}d\u{feff}"), "a\\u{61c}b\\u{200b}c\\u{2060}d\\u{feff}");
        assert_eq!(term("\u{1b}[2Jgone"), "\\x1b[2Jgone");
        assert_eq!(term("a\nb\r\t\u{7f}\u{9b}"), "a\\x0ab\\x0d\\x09\\x7f\\x9b");
        assert_eq!(term("abc\u{202e}fed"), "abc\\u{202e}fed");
    }

    #[test]
    fn csv_fields_that_look_like_formulas_are_quoted() {
        assert_eq!(csv_field("=HYPERLINK(\"http://x\",\"y\")"), "'=HYPERLINK(\"http://x\",\"y\")");
        for f in ["+1", "-1+2", "@SUM(A1)", "  =1", "\t=1", "\r=1", "＝1"] {
            assert!(csv_field(f).starts_with('\''), "{f}");
        }
        assert_eq!(csv_field("site-nyc"), "site-nyc");
        assert_eq!(csv_field("12 (±3)"), "12 (±3)");
        assert_eq!(csv_field("\u{1b}[2J"), "\\x1b[2J");
    }

    #[test]
    fn json_escapes_what_serde_json_leaves() {
        let raw = serde_json::to_string("a\u{1b}b\u{9b}c\u{202e}").unwrap_or_default();
        assert_eq!(json(&raw), "\"a\\u001bb\\u009bc\\u202e\"");
        let back: String = serde_json::from_str(&json(&raw)).unwrap_or_default();
        assert_eq!(back, "a\u{1b}b\u{9b}c\u{202e}");
    }
}
