//! `caseward`: the command for board staff, security reviewers and administrators.
//!
//! Exit codes: 0 success; 1 a finding (for example a broken log); 2 bad usage or bad input
//! (including a wrong passphrase or a file that is not a vault).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { dir, clients } => demo::run(dir, clients),
        Command::Init { vault, passphrase_file, kdf_log_n } => init(&vault, passphrase_file.as_deref(), kdf_log_n),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("caseward: {e}");
            ExitCode::from(2)
        }
    }
}

fn init(vault: &std::path::Path, passphrase_file: Option<&std::path::Path>, log_n: u8) -> Result<(), caseward::Error> {
    let kdf = caseward::KdfParams::new(log_n)?;
    let passphrase = secret::passphrase(passphrase_file, true)?;
    let options = caseward::VaultOptions { kdf, ..Default::default() };
    let v = caseward::Vault::create_with_options(vault, &passphrase, options)?;
    v.close()?;
    println!("created {} (scrypt log_n {log_n}, AES-256-GCM)", vault.display());
    Ok(())
}
