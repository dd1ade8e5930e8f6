//! `caseward lottery commit|draw|verify|files`: the enrollment lottery as a provider runs it and
//! as an advocate checks it (`docs/lottery.md`).

use std::path::Path;

use caseward::lottery::{self, Commitment};
use caseward::report::Registry;
use caseward::{ClientId, Error, Vault};

use crate::neutral::term;
use crate::output::{ready, write_new};
use crate::report::Failure;
use crate::secret;

/// The public files' names inside the output folder.
const COMMITMENT: &str = "commitment.json";
const POOL: &str = "pool.txt";
const DRAW: &str = "draw.json";

/// The pool's clients from a file of A-numbers, one per line (blank lines and `#` comments
/// skipped). An unknown or invalid number is refused by its line number, never echoed.
fn pool_clients(vault: &Vault, file: &Path) -> Result<Vec<ClientId>, Error> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::InvalidInput(format!("{}: cannot read the pool file ({})", file.display(), e.kind())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let found = vault.find_by_a_number(line).map_err(|e| match e.kind() {
            caseward::ErrorKind::InvalidInput => {
                Error::InvalidInput(format!("{} line {}: not a valid A-number", file.display(), n + 1))
            }
            _ => e,
        })?;
        let client = found.ok_or_else(|| {
            Error::InvalidInput(format!("{} line {}: no client of this vault has that A-number", file.display(), n + 1))
        })?;
        out.push(client);
    }
    Ok(out)
}

/// The options of `lottery commit`.
pub struct CommitArgs<'a> {
    pub vault: &'a Path,
    pub id: &'a str,
    pub slots: u32,
    pub seed_from: &'a str,
    pub pool: &'a Path,
    pub out: &'a Path,
    pub passphrase_file: Option<&'a Path>,
}

/// `lottery commit`.
pub fn commit(a: &CommitArgs<'_>) -> Result<(), Error> {
    let CommitArgs { vault, id, slots, seed_from, pool, out, passphrase_file } = *a;
    let v = Vault::open(vault, &secret::passphrase(passphrase_file, false)?)?;
    let clients = pool_clients(&v, pool)?;
    // The folder must take the files before anything is committed: a commitment whose files
    // could not be written would still be logged.
    ready(out, &[COMMITMENT, POOL])?;
    let files = v.lottery_commit(id, &clients, slots, seed_from)?;
    write_new(out, COMMITMENT, &files.commitment)?;
    write_new(out, POOL, &files.pool)?;
    let (c, _): (Commitment, String) = lottery::open(&files.commitment)?;
    println!("committed lottery {id}: {} in the pool, {slots} slots, pool SHA-256 {}", c.pool_size, c.pool_sha256);
    println!(
        "publish {} and {} now; then draw with the seed the commitment names ({}), published after {} (unix time)",
        out.join(COMMITMENT).display(),
        out.join(POOL).display(),
        c.seed_source,
        c.committed_at
    );
    v.close()
}

/// `lottery draw`.
pub fn draw(vault: &Path, id: &str, seed: &str, out: &Path, passphrase_file: Option<&Path>) -> Result<(), Error> {
    let v = Vault::open(vault, &secret::passphrase(passphrase_file, false)?)?;
    ready(out, &[DRAW])?;
    let signed = v.lottery_draw(id, seed)?;
    write_new(out, DRAW, &signed)?;
    let (d, _): (lottery::Draw, String) = lottery::open(&signed)?;
    println!(
        "drawn lottery {id}: {} selected; each member's arm is recorded in the vault; publish {}",
        d.selected.len(),
        out.join(DRAW).display()
    );
    v.close()
}

/// `lottery files`: writes a lottery's public files again.
pub fn files(vault: &Path, id: &str, out: &Path, passphrase_file: Option<&Path>) -> Result<(), Error> {
    let v = Vault::open(vault, &secret::passphrase(passphrase_file, false)?)?;
    let files = v.lottery_files(id)?;
    write_new(out, COMMITMENT, &files.commitment)?;
    write_new(out, POOL, &files.pool)?;
    if let Some(d) = &files.draw {
        write_new(out, DRAW, d)?;
    }
    println!(
        "wrote the files of lottery {id} to {}{}",
        out.display(),
        if files.draw.is_some() { "" } else { " (not drawn yet)" }
    );
    v.close()
}

/// `lottery verify`: exit 0 when the draw re-runs to the published selection, 1 when any check
/// fails (with the reason), 2 for bad usage.
pub fn verify(
    commitment: &Path,
    pool: &Path,
    draw: &Path,
    key: Option<&str>,
    providers: Option<&Path>,
) -> Result<(), Failure> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| Error::InvalidInput(format!("{}: {}", p.display(), e.kind())));
    let (c_bytes, p_bytes, d_bytes) = (read(commitment)?, read(pool)?, read(draw)?);
    let expected = match (key, providers) {
        (Some(k), _) => Some(k.to_owned()),
        (None, Some(reg)) => {
            let registry = Registry::load(reg)?;
            let (c, _): (Commitment, String) =
                lottery::open(&c_bytes).map_err(|e| Failure::Refused(format!("{}: {e}", commitment.display())))?;
            let k = registry.providers.get(&c.provider).ok_or_else(|| {
                Failure::Refused(format!("provider {:?} is not in the registry of provider keys", c.provider))
            })?;
            Some(k.clone())
        }
        (None, None) => None,
    };
    match lottery::verify(&c_bytes, &p_bytes, &d_bytes, expected.as_deref()) {
        Ok(v) => {
            println!(
                "verified: lottery {}, {} of {} selected, seed {}",
                term(&v.commitment.lottery),
                v.commitment.slots,
                v.commitment.pool_size,
                term(&v.draw.seed)
            );
            println!(
                "check by hand: the seed is the value named in advance as \"{}\", published after the commitment \
                 ({} unix time, the provider's own clock: trust it as far as the board received the commitment \
                 before that value existed)",
                term(&v.commitment.seed_source),
                v.commitment.committed_at
            );
            if expected.is_none() {
                println!("the signer was not checked against the provider's key: pass --key or --providers");
            }
            Ok(())
        }
        Err(e @ Error::Lottery(_)) => Err(Failure::Refused(e.to_string())),
        Err(e) => Err(Failure::Other(e)),
    }
}
