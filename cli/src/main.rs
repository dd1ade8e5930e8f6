//! `caseward`: the command for board staff, security reviewers and administrators.
//!
//! Exit codes: 0 success; 1 a finding (for example a broken log, or a refused report bundle);
//! 2 bad usage or bad input (including a wrong passphrase or a file that is not a vault).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audiences;
mod demo;
mod extract;
mod html;
mod import;
mod lottery;
mod neutral;
mod output;
mod report;
mod secret;

/// Encrypted client records for CMPP case-management providers.
#[derive(Parser, Debug)]
#[command(name = "caseward", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Plays a synthetic provider end to end in a temporary folder and shows each step.
    ///
    /// Example: caseward demo --clients 500
    Demo {
        /// Keep the demo vault in this folder instead of a temporary one.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// How many synthetic clients to enroll.
        #[arg(long, default_value_t = 200)]
        clients: u32,
    },
    /// Creates a new, empty vault protected by a passphrase.
    ///
    /// The passphrase comes from --passphrase-file, else the CASEWARD_PASSPHRASE variable,
    /// else a prompt (asked twice, not echoed).
    ///
    /// Example: caseward init provider.cwv --passphrase-file /run/secrets/vault-pass
    Init {
        /// Path of the vault file to create (never overwritten).
        vault: PathBuf,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// scrypt work factor log2(N), 15 to 20 (16: 64 MiB, about 0.2 s per open).
        #[arg(long, default_value_t = caseward::KdfParams::DEFAULT_LOG_N)]
        kdf_log_n: u8,
        /// A recovery recipient (age1...) that can also open the vault; repeat for several.
        /// Make one with `caseward keygen` and keep the identity offline.
        #[arg(long)]
        recovery: Vec<String>,
    },
    /// Enrolls clients from a spreadsheet export (CSV). Every bad row is reported with its row
    /// number, column and reason; nothing is stored unless every row is valid. Columns:
    /// examples/intake-template.csv (required: a_number, name_dhs, site, enrolled_on).
    ///
    /// Example: caseward import provider.cwv intake-2026-10.csv
    Import {
        /// The vault.
        vault: PathBuf,
        /// The CSV file (UTF-8, header row first).
        file: PathBuf,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Print the result (or every problem) as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Checks and explains disclosure policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Verifies and exports a vault's disclosure log. Needs no key.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Prints what may go to ICE about one client (the floor, nothing more), and logs it.
    ///
    /// CLIENT is the client's internal id (32 hex digits) or an A-number in any written form.
    /// Without --address-consent the notice says the client reports their address directly.
    ///
    /// Example: caseward ice-notice provider.cwv A-201-555-012 --address-consent
    IceNotice {
        /// The vault.
        vault: PathBuf,
        /// Internal client id or A-number.
        client: String,
        /// The client consented, for this notice, to sending their address of record.
        #[arg(long)]
        address_consent: bool,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Writes a new board identity (an age X25519 identity file) and prints its public
    /// recipient (age1...), which providers pass to `report build --to`.
    ///
    /// Example: caseward keygen -o board.key
    Keygen {
        /// The identity file to create (mode 0600; never overwritten).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Sets the provider's id and prints the line the board adds to its registry of provider
    /// signing keys.
    ///
    /// Example: caseward provider provider.cwv --id irc-new-york >> registry.toml
    Provider {
        /// The vault.
        vault: PathBuf,
        /// The provider id (a-z, 0-9, '-'), as the board knows it.
        #[arg(long)]
        id: Option<String>,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Gives the vault the consortium's pseudonym key: generated (the consortium's first
    /// provider) or imported from its age file. Board pseudonyms and lottery pools need it;
    /// it is never replaced once set.
    ///
    /// Example: caseward pseudonym-key provider.cwv --import consortium-key.age -i provider.key
    PseudonymKey {
        /// The vault.
        vault: PathBuf,
        /// Generate a new key.
        #[arg(long, conflicts_with = "import", required_unless_present = "import")]
        generate: bool,
        /// The consortium's age file holding the key.
        #[arg(long, requires = "identity")]
        import: Option<PathBuf>,
        /// The age identity file that opens it.
        #[arg(short = 'i', long)]
        identity: Option<PathBuf>,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Builds, opens and merges board reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Manages the keys that open a vault.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The evaluation's enrollment lottery: commit a pool, draw it once with a public beacon
    /// value, and let anyone verify the draw (docs/lottery.md).
    #[command(subcommand)]
    Lottery(LotteryCommand),
    /// Evaluator extracts: k-anonymous, pseudonymized Parquet of an evaluation's participants.
    #[command(subcommand)]
    Extract(ExtractCommand),
    /// Prints a shell completion script, generated from these definitions.
    ///
    /// Example: caseward completions bash > /etc/bash_completion.d/caseward
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Prints the man page (roff), generated from these definitions; with --dir, writes one
    /// page per command and subcommand (caseward.1, caseward-report-build.1 ...) instead.
    ///
    /// Example: caseward man --dir /usr/local/share/man/man1 && man caseward-report-merge
    Man {
        /// Write every page into this folder (created if missing) and list them.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// Shows, and with --set-* sets, the privacy budgets noisy reports spend: one per month and
    /// one per calendar year, both in zCDP rho (a laplace:EPSILON table costs epsilon^2/2).
    ///
    /// Example: caseward report budget provider.cwv --period 2026-09 --set-year-rho 1.5
    Budget {
        /// The vault.
        vault: PathBuf,
        /// The month whose spending to show (YYYY-MM); its year too.
        #[arg(long)]
        period: String,
        /// Set the budget of every month (rho, a decimal or a fraction such as 1/2).
        #[arg(long)]
        set_period_rho: Option<String>,
        /// Set the budget of every calendar year (rho).
        #[arg(long)]
        set_year_rho: Option<String>,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Builds the report for a month, signs it with the provider's key, and encrypts it with
    /// age to the board's recipients. The report is logged in the vault.
    ///
    /// Example: caseward report build provider.cwv --period 2026-09 --to age1... -o irc-2026-09.age
    Build {
        /// The vault.
        vault: PathBuf,
        /// The month the report closes (YYYY-MM). Quarterly tables come in March, June,
        /// September and December; half-year in June and December; yearly in December; the
        /// fiscal year in September.
        #[arg(long)]
        period: String,
        /// A board recipient (age1...) or a file of recipients; repeat for several.
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        /// The bundle to write (never overwritten).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// suppress (default), laplace:EPSILON or gaussian:RHO (per table; charged to the
        /// period's and the year's privacy budgets, in zCDP rho: laplace costs epsilon^2/2 per
        /// table).
        #[arg(long, default_value = "suppress")]
        method: String,
        /// Funded slots of a site, SITE=N (indicator 1). Under noise, the sites named here (and
        /// in --declined and --expenditure) are the rows of site tables; every other site's
        /// clients count in one `other sites` row.
        #[arg(long)]
        capacity: Vec<String>,
        /// Selected people who declined the offer this quarter, SITE=N (indicator 2).
        #[arg(long)]
        declined: Vec<String>,
        /// CMPP expenditure of the fiscal year in dollars, SITE=N (indicator 6).
        #[arg(long)]
        expenditure: Vec<String>,
        /// Publish new numbers for a period already released, for this reason (stated in the
        /// report). Without it, a released period is written again exactly as first signed.
        #[arg(long, value_name = "REASON")]
        revise: Option<String>,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Decrypts a bundle with a board identity, verifies its signature, and prints its tables.
    /// Exit 1 if the bundle is refused (altered, not for this identity, or signed by a key the
    /// registry does not hold for its provider).
    ///
    /// Example: caseward report open irc-2026-09.age -i board.key --providers registry.toml --csv out/
    Open {
        /// The bundle.
        file: PathBuf,
        /// The board's age identity file.
        #[arg(short = 'i', long = "identity")]
        identity: PathBuf,
        /// The registry of provider signing keys (TOML). Without it the signer is not checked.
        #[arg(long)]
        providers: Option<PathBuf>,
        /// Also write each table as a CSV file into this folder.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Also write a self-contained HTML page (charts and tables, no external assets).
        #[arg(long)]
        html: Option<PathBuf>,
        /// Print the verified report as JSON instead of text tables.
        #[arg(long)]
        json: bool,
    },
    /// Opens several providers' bundles for one period and prints national tables.
    ///
    /// Exit 1 if a bundle is refused: a bad signature, an unregistered signer, bundles of
    /// different periods, the same bundle twice, or two bundles from one provider (one signing
    /// key or one provider id) unless --replace-older.
    ///
    /// Example: caseward report merge *.age -i board.key --providers registry.toml
    Merge {
        /// The bundles.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Of two bundles from one provider for the period, keep the newer (by the disclosure-log
        /// sequence number each carries under its signature) and say which was replaced.
        #[arg(long)]
        replace_older: bool,
        /// The board's age identity file.
        #[arg(short = 'i', long = "identity")]
        identity: PathBuf,
        /// The registry of provider signing keys (TOML).
        #[arg(long)]
        providers: Option<PathBuf>,
        /// Also write each merged table as a CSV file into this folder.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Also write a self-contained HTML page (charts and tables, no external assets).
        #[arg(long)]
        html: Option<PathBuf>,
        /// Print the merged tables as JSON instead of text tables.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ExtractCommand {
    /// Builds the evaluator's extract of an evaluation (its randomized participants), signs its
    /// data dictionary, encrypts both to the evaluator and logs it. An evaluation is extracted
    /// once; new data go out as a new evaluation.
    ///
    /// Example: caseward extract build provider.cwv --evaluation cmpp-2027 --to age1... -o extract/
    Build {
        /// The vault.
        vault: PathBuf,
        /// The evaluation's id (a-z, 0-9, '-'), also the epoch of its pseudonyms.
        #[arg(long)]
        evaluation: String,
        /// The evaluator's age recipient (age1...), or a file of them; repeatable.
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        /// Only participants of this lottery (repeatable); without it, every randomized one.
        #[arg(long = "selection")]
        selections: Vec<String>,
        /// Every published class holds at least this many records.
        #[arg(long, default_value_t = 11)]
        k: u32,
        /// At most this share of records (percent) may be suppressed.
        #[arg(long, default_value_t = 5)]
        max_suppressed_percent: u32,
        /// The folder to write extract.parquet.age and dictionary.json.age into.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Decrypts an extract with the evaluator's identity, verifies the dictionary's signature
    /// and that it names this Parquet file, and writes extract.parquet and dictionary.json.
    /// Exit 1 if the files are refused.
    ///
    /// Example: caseward extract open extract/ -i evaluator.key --providers registry.toml -o opened/
    Open {
        /// The folder holding extract.parquet.age and dictionary.json.age.
        dir: PathBuf,
        /// The evaluator's age identity file.
        #[arg(short = 'i', long)]
        identity: PathBuf,
        /// The board's registry of provider keys, to check the signer against.
        #[arg(long)]
        providers: Option<PathBuf>,
        /// The folder to write the opened files into.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum LotteryCommand {
    /// Commits a pool of eligible, interested clients (a file of A-numbers, one per line) to a
    /// lottery of SLOTS places: replaces them by one-time tokens, signs and logs the commitment,
    /// and writes commitment.json and pool.txt to publish before the seed exists.
    ///
    /// Example: caseward lottery commit provider.cwv --id nyc-2026-q1 --slots 40 --seed-from "NIST beacon v2 chain 2, first pulse after 2027-01-05T12:00Z" --pool eligible.txt -o lottery/
    Commit {
        /// The vault.
        vault: PathBuf,
        /// The lottery's id (a-z, 0-9, '-'); a new pool needs a new id.
        #[arg(long)]
        id: String,
        /// How many places the draw fills (at least 1, fewer than the pool).
        #[arg(long)]
        slots: u32,
        /// Where the seed will come from, named now, before it exists: the beacon and the pulse
        /// it will publish after this commitment (signed into the commitment).
        #[arg(long, value_name = "SOURCE")]
        seed_from: String,
        /// A file of the pool's A-numbers, one per line ('#' comments allowed).
        #[arg(long)]
        pool: PathBuf,
        /// The folder to write commitment.json and pool.txt into (never overwritten).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Draws a committed lottery once with SEED (a randomness-beacon value published after the
    /// commitment), records each member's arm in the vault, and writes the signed draw.json.
    /// A second draw of the same pool is refused.
    ///
    /// Example: caseward lottery draw provider.cwv --id nyc-2026-q1 --seed 5A0F...E1 -o lottery/
    Draw {
        /// The vault.
        vault: PathBuf,
        /// The lottery's id.
        #[arg(long)]
        id: String,
        /// The seed, exactly as published (1 to 512 printable ASCII characters).
        #[arg(long)]
        seed: String,
        /// The folder to write draw.json into (never overwritten).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Re-runs a draw from its three public files and checks the selection. Needs no vault and
    /// no identity. Exit 1, with the reason, if any check fails.
    ///
    /// Example: caseward lottery verify lottery/commitment.json lottery/pool.txt lottery/draw.json --providers registry.toml
    Verify {
        /// The signed commitment.
        commitment: PathBuf,
        /// The pool file.
        pool: PathBuf,
        /// The signed draw.
        draw: PathBuf,
        /// The provider's signing key (ed25519:...), which both documents must be signed by.
        #[arg(long)]
        key: Option<String>,
        /// Or the board's registry of provider keys, to look the provider's key up in.
        #[arg(long, conflicts_with = "key")]
        providers: Option<PathBuf>,
    },
    /// Writes a lottery's public files again, from the vault.
    ///
    /// Example: caseward lottery files provider.cwv --id nyc-2026-q1 -o copy/
    Files {
        /// The vault.
        vault: PathBuf,
        /// The lottery's id.
        #[arg(long)]
        id: String,
        /// The folder to write into (never overwritten).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Lists the key envelopes that open a vault: the passphrase, recovery recipients and
    /// keystore keys.
    ///
    /// Example: caseward key list provider.cwv --passphrase-file /run/secrets/vault-pass
    List {
        /// The vault.
        vault: PathBuf,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Adds a recovery recipient (age1...): the organisation's offline identity can then open
    /// the vault if the passphrase is lost. Make the identity with `caseward keygen`.
    ///
    /// Example: caseward key add-recovery provider.cwv --recipient age1...
    AddRecovery {
        /// The vault.
        vault: PathBuf,
        /// The recovery recipient (age1...).
        #[arg(long)]
        recipient: String,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Removes a recovery recipient. The last way to open a vault is never removed.
    ///
    /// Example: caseward key remove-recovery provider.cwv --recipient age1...
    RemoveRecovery {
        /// The vault.
        vault: PathBuf,
        /// The recovery recipient (age1...).
        #[arg(long)]
        recipient: String,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Removes a keystore key lost with its device, by the recipient `key list` shows for it,
    /// then rotates the root key. The lost phone holds a copy of the vault that its keystore
    /// key opens, and with it the old root key: only a new root keeps later copies from it.
    ///
    /// Example: caseward key remove-keystore provider.cwv --recipient age1...
    RemoveKeystore {
        /// The keystore key's recipient (age1...), as `key list` prints it.
        #[arg(long)]
        recipient: String,
        /// The vault.
        vault: PathBuf,
        /// Read the passphrase from the first line of this file (kept after the rotation).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// scrypt work factor (log2 N) for the re-wrapped passphrase envelope.
        #[arg(long, default_value_t = caseward::KdfParams::DEFAULT_LOG_N)]
        kdf_log_n: u8,
    },
    /// Opens a vault with a recovery identity and sets a new passphrase, rotating the root key
    /// so the lost passphrase opens nothing even if its envelope is put back from a copy.
    ///
    /// Example: caseward key recover provider.cwv -i recovery.key --new-passphrase-file new-pass
    Recover {
        /// The vault.
        vault: PathBuf,
        /// The recovery identity file (AGE-SECRET-KEY-1...).
        #[arg(short = 'i', long = "identity")]
        identity: PathBuf,
        /// Read the new passphrase from the first line of this file (else CASEWARD_PASSPHRASE,
        /// else a prompt).
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
        /// scrypt work factor log2(N) of the new passphrase envelope, 15 to 20.
        #[arg(long, default_value_t = caseward::KdfParams::DEFAULT_LOG_N)]
        kdf_log_n: u8,
    },
    /// Rotates the vault's root key: every old key envelope is retired, so an old passphrase or
    /// an envelope put back from a copy of the file opens nothing. Recovery recipients and
    /// keystore keys are carried over; the passphrase is kept, or replaced with
    /// --new-passphrase-file. Prints the envelopes that open the vault afterwards.
    ///
    /// Example: caseward key rotate provider.cwv --passphrase-file old-pass --new-passphrase-file new-pass
    Rotate {
        /// The vault.
        vault: PathBuf,
        /// Read the current passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Read a new passphrase from the first line of this file (default: keep the current one).
        #[arg(long)]
        new_passphrase_file: Option<PathBuf>,
        /// scrypt work factor log2(N) of the passphrase envelope, 15 to 20.
        #[arg(long, default_value_t = caseward::KdfParams::DEFAULT_LOG_N)]
        kdf_log_n: u8,
    },
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Validates a policy (and overlays) as composed; prints its hash. Exit 2 with every
    /// problem found, each as file:line: rule: problem (with --json: all of them, as JSON on
    /// stdout).
    ///
    /// Example: caseward policy check policies/default.toml --overlay policies/overlays/no-ice-address.toml
    Check {
        /// The base policy file.
        policy: PathBuf,
        /// Site overlays, applied in order; each may only tighten.
        #[arg(long)]
        overlay: Vec<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Installs a policy (and overlays) in a vault, after the same validation as `check`; the
    /// change is logged. Exit 2 with every problem found, and nothing installed.
    ///
    /// Example: caseward policy install provider.cwv policies/default.toml --overlay evaluation.toml
    Install {
        /// The vault.
        vault: PathBuf,
        /// The base policy file.
        policy: PathBuf,
        /// Site overlays, applied in order; each may only tighten.
        #[arg(long)]
        overlay: Vec<PathBuf>,
        /// Read the passphrase from the first line of this file.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Prints the effective category x audience matrix, each cell with the rule that made it.
    ///
    /// Example: caseward policy explain policies/default.toml --json
    Explain {
        /// The base policy file.
        policy: PathBuf,
        /// Site overlays, applied in order.
        #[arg(long)]
        overlay: Vec<PathBuf>,
        /// Only this audience's column (ice, board, partner:<id>, ...), with the code's ceiling
        /// beside each cell and the rules that decide it.
        #[arg(long)]
        audience: Option<String>,
        /// Print the matrix as JSON (every cell with its rule, file and line).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Verifies a vault's disclosure log. Exit 1 if broken. The output says which check ran.
    ///
    /// Without a key (the default) only the hash chain is checked: a cut tail looks intact
    /// unless --witness gives a head taken earlier. With --keyed the vault is opened and the log
    /// is also checked against the head it keeps sealed under its key, which catches a cut tail
    /// without a witness.
    ///
    /// Example: caseward audit verify provider.cwv --keyed --passphrase-file /run/secrets/vault-pass
    Verify {
        /// The vault file.
        vault: PathBuf,
        /// A head taken earlier (from a report): detects a later rewrite or truncation.
        #[arg(long)]
        witness: Option<String>,
        /// Open the vault (passphrase from --passphrase-file, CASEWARD_PASSPHRASE or a prompt)
        /// and check the log against its sealed head too.
        #[arg(long)]
        keyed: bool,
        /// Read the passphrase from the first line of this file (with --keyed).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Prints every log entry as one JSON object per line, without any key (details stay sealed).
    ///
    /// Example: caseward audit export provider.cwv > log.jsonl
    Export {
        /// The vault file.
        vault: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { dir, clients } => demo::run(dir, clients),
        Command::Init { vault, passphrase_file, kdf_log_n, recovery } => {
            init(&vault, passphrase_file.as_deref(), kdf_log_n, &recovery)
        }
        Command::Policy(PolicyCommand::Check { policy, overlay, json }) => {
            return policy_check(&policy, &overlay, json);
        }
        Command::Policy(PolicyCommand::Install { vault, policy, overlay, passphrase_file }) => {
            let Ok(p) = caseward::Policy::check_files(&policy, &overlay) else {
                // The same report as `policy check`, and nothing installed.
                return policy_check(&policy, &overlay, false);
            };
            with_vault(&vault, passphrase_file.as_deref(), |v| {
                v.install_policy(&p)?;
                println!("installed: {} ({})", p.hash(), p.name());
                Ok(())
            })
        }
        Command::PseudonymKey { vault, generate, import, identity, passphrase_file } => {
            with_vault(&vault, passphrase_file.as_deref(), |v| {
                match (generate, import, identity) {
                    (true, _, _) => v.generate_pseudonym_key()?,
                    (false, Some(file), Some(id)) => {
                        v.import_pseudonym_key(&std::fs::read(&file)?, &report::identity(&id)?)?;
                    }
                    _ => {
                        return Err(caseward::Error::InvalidInput(
                            "pass --generate, or --import FILE -i IDENTITY".into(),
                        ))
                    }
                }
                println!("the vault holds the consortium's pseudonym key");
                Ok(())
            })
        }
        Command::Policy(PolicyCommand::Explain { policy, overlay, audience, json }) => {
            policy_explain(&policy, &overlay, audience.as_deref(), json)
        }
        Command::Audit(AuditCommand::Verify { vault, witness, keyed, passphrase_file, json }) => {
            let key = keyed.then_some(passphrase_file.as_deref());
            return audit_verify(&vault, witness.as_deref(), key, json);
        }
        Command::Audit(AuditCommand::Export { vault }) => audit_export(&vault),
        Command::IceNotice { vault, client, address_consent, passphrase_file } => {
            ice_notice(&vault, &client, address_consent, passphrase_file.as_deref())
        }
        Command::Import { vault, file, passphrase_file, json } => {
            return match import::run(&vault, &file, passphrase_file.as_deref(), json) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(2),
                Err(e) => finish(Err(e)),
            };
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "caseward", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { dir: None } => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()).map_err(caseward::Error::from)
        }
        Command::Man { dir: Some(dir) } => man_pages(&dir),
        Command::Keygen { output } => report::keygen(&output),
        Command::Key(KeyCommand::List { vault, passphrase_file }) => {
            with_vault(&vault, passphrase_file.as_deref(), print_envelopes)
        }
        Command::Key(KeyCommand::AddRecovery { vault, recipient, passphrase_file }) => {
            with_vault(&vault, passphrase_file.as_deref(), |v| {
                v.add_recovery_recipient(&caseward::RecoveryRecipient::parse(&recipient)?)?;
                print_envelopes(v)
            })
        }
        Command::Key(KeyCommand::RemoveRecovery { vault, recipient, passphrase_file }) => {
            with_vault(&vault, passphrase_file.as_deref(), |v| {
                v.remove_recovery_recipient(&caseward::RecoveryRecipient::parse(&recipient)?)?;
                print_envelopes(v)
            })
        }
        Command::Key(KeyCommand::RemoveKeystore { vault, recipient, passphrase_file, kdf_log_n }) => {
            key_remove_keystore(&vault, &recipient, passphrase_file.as_deref(), kdf_log_n)
        }
        Command::Key(KeyCommand::Recover { vault, identity, new_passphrase_file, kdf_log_n }) => {
            key_recover(&vault, &identity, new_passphrase_file.as_deref(), kdf_log_n)
        }
        Command::Key(KeyCommand::Rotate { vault, passphrase_file, new_passphrase_file, kdf_log_n }) => {
            key_rotate(&vault, passphrase_file.as_deref(), new_passphrase_file.as_deref(), kdf_log_n)
        }
        Command::Lottery(LotteryCommand::Commit { vault, id, slots, seed_from, pool, output, passphrase_file }) => {
            lottery::commit(&lottery::CommitArgs {
                vault: &vault,
                id: &id,
                slots,
                seed_from: &seed_from,
                pool: &pool,
                out: &output,
                passphrase_file: passphrase_file.as_deref(),
            })
        }
        Command::Lottery(LotteryCommand::Draw { vault, id, seed, output, passphrase_file }) => {
            lottery::draw(&vault, &id, &seed, &output, passphrase_file.as_deref())
        }
        Command::Lottery(LotteryCommand::Files { vault, id, output, passphrase_file }) => {
            lottery::files(&vault, &id, &output, passphrase_file.as_deref())
        }
        Command::Lottery(LotteryCommand::Verify { commitment, pool, draw, key, providers }) => {
            return report::exit(lottery::verify(&commitment, &pool, &draw, key.as_deref(), providers.as_deref()));
        }
        Command::Extract(ExtractCommand::Build {
            vault,
            evaluation,
            to,
            selections,
            k,
            max_suppressed_percent,
            output,
            passphrase_file,
        }) => extract::build(&extract::BuildArgs {
            vault: &vault,
            evaluation: &evaluation,
            to: &to,
            selections: &selections,
            k,
            max_suppressed_percent,
            out: &output,
            passphrase_file: passphrase_file.as_deref(),
        }),
        Command::Extract(ExtractCommand::Open { dir, identity, providers, output }) => {
            return report::exit(extract::open(&dir, &identity, providers.as_deref(), &output));
        }
        Command::Provider { vault, id, passphrase_file } => {
            report::provider(&vault, id.as_deref(), passphrase_file.as_deref())
        }
        Command::Report(ReportCommand::Budget { vault, period, set_period_rho, set_year_rho, passphrase_file }) => {
            with_vault(&vault, passphrase_file.as_deref(), |v| {
                report::budget(v, &period, set_period_rho.as_deref(), set_year_rho.as_deref())
            })
        }
        Command::Report(ReportCommand::Build {
            vault,
            period,
            to,
            output,
            method,
            capacity,
            declined,
            expenditure,
            revise,
            passphrase_file,
        }) => report::build(&report::BuildArgs {
            vault: &vault,
            period: &period,
            to: &to,
            out: &output,
            method: &method,
            capacity: &capacity,
            declined: &declined,
            expenditure: &expenditure,
            revise: revise.as_deref(),
            passphrase_file: passphrase_file.as_deref(),
        }),
        Command::Report(ReportCommand::Open { file, identity, providers, csv, html, json }) => {
            return report::exit(report::open(
                &file,
                &identity,
                providers.as_deref(),
                &report::Outputs { csv: csv.as_deref(), html: html.as_deref(), json },
            ));
        }
        Command::Report(ReportCommand::Merge { files, identity, providers, replace_older, csv, html, json }) => {
            return report::exit(report::merge_files(
                &files,
                &identity,
                providers.as_deref(),
                replace_older,
                &report::Outputs { csv: csv.as_deref(), html: html.as_deref(), json },
            ));
        }
    };
    finish(result)
}

fn finish(result: Result<(), caseward::Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("caseward: {e}");
            ExitCode::from(2)
        }
    }
}

fn init(vault: &Path, passphrase_file: Option<&Path>, log_n: u8, recovery: &[String]) -> Result<(), caseward::Error> {
    let kdf = caseward::KdfParams::new(log_n)?;
    let recipients = recovery.iter().map(|r| caseward::RecoveryRecipient::parse(r)).collect::<Result<Vec<_>, _>>()?;
    let passphrase = secret::passphrase(passphrase_file, true)?;
    let options = caseward::VaultOptions { kdf, ..Default::default() };
    let v = caseward::Vault::create_with_options(vault, &passphrase, options)?;
    for r in &recipients {
        v.add_recovery_recipient(r)?;
    }
    println!("created {} (scrypt log_n {log_n}, AES-256-GCM)", vault.display());
    if recipients.is_empty() {
        println!("no recovery recipient: if the passphrase is lost, so is the vault (caseward key add-recovery)");
    }
    print_envelopes(&v)?;
    v.close()
}

/// One man page per command and subcommand, named the way `man` finds them
/// (`caseward-report-build.1` for `caseward report build`).
fn man_pages(dir: &std::path::Path) -> Result<(), caseward::Error> {
    use clap::CommandFactory;
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("caseward") && n.ends_with(".1"))
        .collect();
    pages.sort();
    println!("wrote {} man pages to {}: {}", pages.len(), dir.display(), pages.join(", "));
    Ok(())
}

fn with_vault(
    vault: &Path,
    passphrase_file: Option<&Path>,
    f: impl FnOnce(&caseward::Vault) -> Result<(), caseward::Error>,
) -> Result<(), caseward::Error> {
    let passphrase = secret::passphrase(passphrase_file, false)?;
    let v = caseward::Vault::open(vault, &passphrase)?;
    f(&v)?;
    v.close()
}

fn print_envelopes(v: &caseward::Vault) -> Result<(), caseward::Error> {
    println!("opens with:");
    for e in v.envelopes()? {
        match e.recipient {
            Some(r) => println!("  {} {r}", e.kind),
            None => println!("  {}", e.kind),
        }
    }
    Ok(())
}

fn key_recover(vault: &Path, identity: &Path, new: Option<&Path>, log_n: u8) -> Result<(), caseward::Error> {
    let kdf = caseward::KdfParams::new(log_n)?;
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(identity)
            .map_err(|e| caseward::Error::InvalidInput(format!("cannot read the identity file: {}", e.kind())))?,
    );
    let identity = caseward::RecoveryIdentity::parse(&text)?;
    let v = caseward::Vault::open_with_identity(vault, &identity)?;
    let passphrase = secret::passphrase(new, true)?;
    v.rotate_root_key(Some(&passphrase), kdf)?;
    println!("{}: recovered; a new passphrase is set and the root key rotated.", vault.display());
    print_envelopes(&v)?;
    v.close()
}

fn key_remove_keystore(
    vault: &Path,
    recipient: &str,
    current: Option<&Path>,
    log_n: u8,
) -> Result<(), caseward::Error> {
    let kdf = caseward::KdfParams::new(log_n)?;
    let passphrase = secret::passphrase(current, false)?;
    let v = caseward::Vault::open(vault, &passphrase)?;
    // Remove first: a rotation re-makes the keystore envelopes it finds, the lost one included.
    v.remove_keystore_recipient(recipient)?;
    v.rotate_root_key(Some(&passphrase), kdf)?;
    println!("{}: keystore key {recipient} removed and the root key rotated.", vault.display());
    print_envelopes(&v)?;
    v.close()
}

fn key_rotate(vault: &Path, current: Option<&Path>, new: Option<&Path>, log_n: u8) -> Result<(), caseward::Error> {
    let kdf = caseward::KdfParams::new(log_n)?;
    let passphrase = secret::passphrase(current, false)?;
    let v = caseward::Vault::open(vault, &passphrase)?;
    let kept = match new {
        Some(file) => secret::passphrase(Some(file), false)?,
        None => passphrase,
    };
    v.rotate_root_key(Some(&kept), kdf)?;
    println!("{}: root key rotated; every earlier key envelope is retired.", vault.display());
    print_envelopes(&v)?;
    v.close()
}

fn policy_check(policy: &Path, overlays: &[PathBuf], json: bool) -> ExitCode {
    let files: Vec<String> =
        std::iter::once(policy).chain(overlays.iter().map(PathBuf::as_path)).map(|f| f.display().to_string()).collect();
    match caseward::Policy::check_files(policy, overlays) {
        Ok(p) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "valid": true, "policy": p.hash().to_string(), "name": p.name(), "files": files })
                );
            } else {
                println!("ok: {} ({})", p.hash(), p.name());
            }
            ExitCode::SUCCESS
        }
        Err(problems) => {
            if json {
                let list: Vec<serde_json::Value> = problems
                    .iter()
                    .map(|e| {
                        serde_json::json!({
                            "file": e.file,
                            "line": e.line,
                            "rule": e.rule,
                            "problem": e.problem.to_string(),
                            "message": e.to_string(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::json!({ "valid": false, "files": files, "problems": list }));
            } else {
                for e in &problems {
                    eprintln!("caseward: {e}");
                }
                eprintln!("caseward: {} problem(s); the policy is not valid", problems.len());
            }
            ExitCode::from(2)
        }
    }
}

fn policy_explain(
    policy: &Path,
    overlays: &[PathBuf],
    audience: Option<&str>,
    json: bool,
) -> Result<(), caseward::Error> {
    let p = caseward::Policy::load_with_overlays(policy, overlays)?;
    let text = match audience {
        Some(a) => {
            let e = p.explain_audience(&a.parse()?);
            if json {
                serde_json::to_string_pretty(&e).map_err(|_| caseward::Error::InvalidInput("json".into()))?
            } else {
                e.to_markdown()
            }
        }
        None => {
            let e = p.explain();
            if json {
                serde_json::to_string_pretty(&e).map_err(|_| caseward::Error::InvalidInput("json".into()))?
            } else {
                e.to_markdown()
            }
        }
    };
    println!("{}", text.trim_end());
    Ok(())
}

/// Which log check ran, in the words the output uses.
const KEYLESS: &str = "keyless (the hash chain only: a cut tail is caught only with --witness or --keyed)";
const KEYED: &str = "keyed (the hash chain, and the newest entry against the one sealed under the vault key)";

fn audit_verify(vault: &Path, witness: Option<&str>, key: Option<Option<&Path>>, json: bool) -> ExitCode {
    let run = || -> Result<caseward::LogStatus, caseward::Error> {
        let witness = witness.map(str::parse::<caseward::LogHead>).transpose()?;
        match key {
            None => caseward::audit::verify_file(vault, witness.as_ref()),
            Some(file) => {
                let passphrase = secret::passphrase(file, false)?;
                let v = caseward::Vault::open(vault, &passphrase)?;
                let status = v.verify_log(witness.as_ref())?;
                v.close()?;
                Ok(status)
            }
        }
    };
    let (check, name) = if key.is_some() { (KEYED, "keyed") } else { (KEYLESS, "keyless") };
    match run() {
        Ok(status) => {
            if json {
                let mut value = serde_json::to_value(&status).unwrap_or_default();
                if let Some(map) = value.as_object_mut() {
                    map.insert("check".into(), name.into());
                    map.insert("witness".into(), witness.is_some().into());
                }
                println!("{value}");
            } else {
                println!("{}: {status}", vault.display());
                println!("check: {check}{}", if witness.is_some() { "; and the witness" } else { "" });
            }
            if status.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => finish(Err(e)),
    }
}

fn audit_export(vault: &Path) -> Result<(), caseward::Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for e in caseward::audit::read_file(vault)? {
        writeln!(out, "{}", e.to_json())?;
    }
    Ok(())
}

fn ice_notice(
    vault: &Path,
    client: &str,
    consent: bool,
    passphrase_file: Option<&Path>,
) -> Result<(), caseward::Error> {
    let passphrase = secret::passphrase(passphrase_file, false)?;
    let v = caseward::Vault::open(vault, &passphrase)?;
    let id = match client.parse::<caseward::ClientId>() {
        Ok(id) => id,
        Err(_) => v
            .find_by_a_number(client)?
            .ok_or_else(|| caseward::Error::InvalidInput("no client with that A-number".into()))?,
    };
    let consent =
        if consent { caseward::AddressConsent::GivenForThisNotice } else { caseward::AddressConsent::Withheld };
    let notice = v.ice_notice(id, consent)?;
    let pretty: serde_json::Value =
        serde_json::from_slice(notice.to_json()).map_err(|_| caseward::Error::InvalidInput("json".into()))?;
    println!("{}", serde_json::to_string_pretty(&pretty).unwrap_or_default());
    v.close()
}
