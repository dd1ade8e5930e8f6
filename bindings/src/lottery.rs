//! The enrollment lottery's public files, and their verification by anyone (docs/lottery.md).

use caseward as cw;

use crate::error::Result;

/// The public files of a lottery: publish the commitment and the pool before the seed exists,
/// and the draw after.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LotteryFiles {
    /// The signed commitment (JSON).
    pub commitment: Vec<u8>,
    /// The pool file: sorted tokens, one per line.
    pub pool: Vec<u8>,
    /// The signed draw (JSON), once drawn.
    pub draw: Option<Vec<u8>>,
}

impl From<cw::LotteryFiles> for LotteryFiles {
    fn from(f: cw::LotteryFiles) -> Self {
        Self { commitment: f.commitment, pool: f.pool, draw: f.draw }
    }
}

/// Re-runs a draw from its three public files and returns the selected tokens, sorted.
/// With `signer` (`ed25519:...`, the provider's registered key) both documents must be signed
/// by it. `Integrity` when the pool changed after the commitment, the draw belongs to another
/// pool, or the selection is not what the seed selects.
#[uniffi::export(default(signer = None))]
pub fn verify_lottery(
    commitment: Vec<u8>,
    pool: Vec<u8>,
    draw: Vec<u8>,
    signer: Option<String>,
) -> Result<Vec<String>> {
    Ok(cw::lottery::verify(&commitment, &pool, &draw, signer.as_deref())?.draw.selected)
}
