//! The policy parser and validator, alone and as an overlay on the shipped default: any text is
//! refused with a `Policy` error or accepted, and an accepted overlay never widens the default.
#![no_main]
use caseward::{Audience, Category, Policy};

const DEFAULT: &str = include_str!("../../policies/default.toml");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = Policy::from_toml(text, "fuzz.toml") {
        let _ = p.explain().to_markdown();
    }
    if let (Ok(base), Ok(with)) =
        (Policy::default_policy(), Policy::with_overlays_text(DEFAULT, "default.toml", &[(text, "overlay.toml")]))
    {
        for audience in ["caseworker", "client", "partner", "partner:x", "board", "funder", "evaluator", "ice"] {
            let Ok(a) = audience.parse::<Audience>() else { continue };
            for c in Category::all() {
                assert!(with.treatment(&a, c) <= base.treatment(&a, c), "an overlay widened {audience} {c}");
            }
        }
    }
});
