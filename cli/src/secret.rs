//! Where a passphrase comes from: a file, the environment, or a prompt without echo.

use std::io::IsTerminal;
use std::path::Path;

use caseward::{Error, Passphrase};

/// The environment variable a passphrase may come from (for scripts and CI).
pub const ENV: &str = "CASEWARD_PASSPHRASE";

/// Reads a passphrase: from `file` (first line), else `CASEWARD_PASSPHRASE`, else a prompt on
/// the terminal (twice when `confirm`).
pub fn passphrase(file: Option<&Path>, confirm: bool) -> Result<Passphrase, Error> {
    if let Some(file) = file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(file)
                .map_err(|e| Error::InvalidInput(format!("cannot read the passphrase file: {}", e.kind())))?,
        );
        let line = text.lines().next().unwrap_or_default();
        return Ok(Passphrase::new(line));
    }
    if let Ok(p) = std::env::var(ENV) {
        return Ok(Passphrase::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::InvalidInput(format!(
            "no passphrase: use --passphrase-file or {ENV}, or run on a terminal"
        )));
    }
    let first = zeroize::Zeroizing::new(
        rpassword::prompt_password("Vault passphrase: ")
            .map_err(|_| Error::InvalidInput("could not read the passphrase".into()))?,
    );
    if confirm {
        let second = zeroize::Zeroizing::new(
            rpassword::prompt_password("Again: ")
                .map_err(|_| Error::InvalidInput("could not read the passphrase".into()))?,
        );
        if *first != *second {
            return Err(Error::InvalidInput("the two passphrases differ".into()));
        }
    }
    Ok(Passphrase::new(first.as_str()))
}
