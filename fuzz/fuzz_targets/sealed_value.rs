//! The sealed-value decoder (header, commitment, AEAD) and the record-body framing.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| caseward::fuzzing::sealed_value(data));
