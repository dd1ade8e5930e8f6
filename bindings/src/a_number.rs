//! A-numbers: the one check an app can make before it has a vault.

use caseward as cw;

use crate::error::Result;

/// Normalizes an A-number to its canonical form (`A` and 9 digits), or says why it is invalid.
#[uniffi::export]
pub fn normalize_a_number(text: String) -> Result<String> {
    Ok(cw::AlienNumber::parse(&text)?.as_str().to_owned())
}
