//! Property tests: the sealed format round-trips and refuses every alteration; A-number
//! normalization agrees with `docs/program.md#a-number` on every written form.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly on purpose"
)]

use caseward::seal::{Aad, Algorithm, NonceSource, SealError, SealingKey};
use caseward::{AlienNumber, Error, ErrorKind, InvalidIdentifier};
use proptest::prelude::*;

fn alg() -> impl Strategy<Value = Algorithm> {
    prop_oneof![Just(Algorithm::Aes256Gcm), Just(Algorithm::ChaCha20Poly1305)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sealed_values_round_trip_and_refuse_any_flip(
        secret in prop::array::uniform32(any::<u8>()),
        alg in alg(),
        key_version in any::<u32>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..600),
        row in prop::collection::vec(any::<u8>(), 0..24),
        category in "[a-z._]{1,40}",
        flip_at in any::<prop::sample::Index>(),
        flip_bit in 0u8..8,
    ) {
        let key = SealingKey::derive(&secret, alg, key_version).unwrap();
        let vault = [3u8; 16];
        let client = [4u8; 16];
        let aad = Aad { vault: &vault, table: "record", row: &row, client: &client, category: &category, schema: 1 };
        let sealed = key.seal(&mut NonceSource::new(), &aad, &plaintext).unwrap();
        prop_assert_eq!(sealed.len(), plaintext.len() + caseward::seal::OVERHEAD);
        prop_assert_eq!(&key.open(&aad, &sealed).unwrap()[..], &plaintext[..]);

        let mut tampered = sealed.clone();
        let i = flip_at.index(tampered.len());
        tampered[i] ^= 1 << flip_bit;
        prop_assert!(key.open(&aad, &tampered).is_err());

        let other_row: Vec<u8> = row.iter().copied().chain([0xFF]).collect();
        let moved = Aad { row: &other_row, ..aad };
        prop_assert_eq!(key.open(&moved, &sealed).unwrap_err(), SealError::Tag);
    }

    #[test]
    fn every_written_form_normalizes_to_the_canonical_number(
        digits in "[0-9]{7,9}",
        form in 0usize..7,
    ) {
        prop_assume!(!digits.chars().all(|c| digits.starts_with(c)));
        let padded = format!("{digits:0>9}");
        let (a, b, c) = (&padded[..3], &padded[3..6], &padded[6..]);
        let text = match form {
            0 => format!("A{digits}"),
            1 => format!("A-{a}-{b}-{c}"),
            2 => format!("A# {a} {b} {c}"),
            3 => format!("USCIS# {a}-{b}-{c}"),
            4 => format!("a {digits}"),
            5 => format!("  A{a}-{b}-{c}  "),
            _ => format!("Alien Number: {digits}"),
        };
        let parsed = AlienNumber::parse(&text).unwrap();
        prop_assert_eq!(parsed.as_str(), format!("A{padded}"));
        // Canonical form is a fixed point.
        prop_assert_eq!(AlienNumber::parse(parsed.as_str()).unwrap(), parsed.clone());
        prop_assert_eq!(AlienNumber::parse(&parsed.display()).unwrap(), parsed);
    }

    #[test]
    fn ten_or_more_digits_are_never_trimmed(digits in "[0-9]{10,16}") {
        match AlienNumber::parse(&format!("A{digits}")) {
            Err(Error::InvalidIdentifier { problem: InvalidIdentifier::AmbiguousLength(n), .. }) => prop_assert_eq!(n, digits.len()),
            other => prop_assert!(false, "accepted or wrong error: {:?}", other.map(|a| a.as_str().to_owned())),
        }
    }

    #[test]
    fn arbitrary_input_never_panics_and_success_is_canonical(text in ".{0,40}") {
        if let Ok(a) = AlienNumber::parse(&text) {
            prop_assert!(a.as_str().len() == 10 && a.as_str().starts_with('A'));
            prop_assert!(a.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
        }
    }
}

#[test]
fn research_domain_6_1_vectors() {
    let ok = [
        ("A123-456-789", "A123456789"),
        ("a 12 345 678", "A012345678"),
        ("012345678", "A012345678"),
        ("USCIS# 123 456 789", "A123456789"),
        ("A1234567", "A001234567"),
        ("A# 201-555-012", "A201555012"),
    ];
    for (input, want) in ok {
        assert_eq!(AlienNumber::parse(input).unwrap().as_str(), want, "{input}");
    }
    for bad in ["A0123456789", "IOE0912345678", "000000000", "A999999999", "12345", "", "A12345678901"] {
        let err = AlienNumber::parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        assert!(!err.to_string().contains(bad) || bad.is_empty(), "the error does not echo the input: {err}");
    }
    let bad = [
        ("A0123456789", InvalidIdentifier::AmbiguousLength(10)),
        ("IOE0912345678", InvalidIdentifier::ReceiptOrCardNumber),
        ("000000000", InvalidIdentifier::Placeholder),
    ];
    for (input, want) in bad {
        match AlienNumber::parse(input) {
            Err(Error::InvalidIdentifier { problem, .. }) => assert_eq!(problem, want, "{input}"),
            other => panic!("{input}: {other:?}"),
        }
    }
}
