//! A-number, name, date and period normalizers, and the small text formats beside them.
#![no_main]
use caseward::pseudonym::NameTokens;
use caseward::report::{Mechanism, Period};
use caseward::{AlienNumber, Date, LogHead};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(a) = AlienNumber::parse(text) {
        // Canonical form is stable: A + 9 digits, and parsing it again gives itself.
        let canonical = a.as_str();
        assert!(canonical.len() == 10 && canonical.starts_with('A'));
        assert_eq!(AlienNumber::parse(canonical).map(|b| b.as_str().to_owned()).ok().as_deref(), Some(canonical));
        assert_eq!(AlienNumber::parse(&a.display()).map(|b| b.as_str().to_owned()).ok().as_deref(), Some(canonical));
    }
    let tokens = NameTokens::new(text);
    let _ = tokens.agrees_with(&NameTokens::new("Maria Jose Garcia Lopez"));
    assert!(tokens.similarity(&tokens) >= 0.999 || tokens.is_empty());
    let _ = Date::parse(text);
    let _ = text.parse::<Period>();
    let _ = Mechanism::parse(text);
    let _ = text.parse::<LogHead>();
});
