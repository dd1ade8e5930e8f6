//! New files in an output folder: checked before the vault records anything, never replacing a
//! file (a published lottery file or an extract is evidence).

use std::io::Write;
use std::path::Path;

use caseward::Error;

/// Makes sure `dir` is a folder that can take `names`, none of which exists yet, before the
/// vault records anything.
pub fn ready(dir: &Path, names: &[&str]) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::InvalidInput(format!("{}: cannot be used as the output folder ({})", dir.display(), e.kind()))
    })?;
    for name in names {
        let path = dir.join(name);
        if path.exists() {
            return Err(Error::InvalidInput(format!("{} exists; caseward never overwrites it", path.display())));
        }
    }
    let probe = dir.join(".caseward-write-test");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| Error::InvalidInput(format!("{}: cannot write there ({})", dir.display(), e.kind())))
}

/// Writes `dir/name`, which must not exist.
pub fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    std::fs::create_dir_all(dir)?;
    write_file(&dir.join(name), bytes, false)
}

/// Writes `path`, which must not exist; `private` files are readable by their owner only.
pub fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            Error::InvalidInput(format!("{} exists; caseward never overwrites it", path.display()))
        }
        _ => Error::from(e),
    })?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}
