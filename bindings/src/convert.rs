//! Client ids cross the boundary as 32 hexadecimal digits, parsed on the way in. (Dates cross
//! as native dates: `date.rs`.)

use std::str::FromStr;

use caseward as cw;

use crate::error::Result;

pub(crate) fn client(id: &str) -> Result<cw::ClientId> {
    Ok(cw::ClientId::from_str(id)?)
}
