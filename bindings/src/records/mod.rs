//! The plain records: what apps send (`input`) and what the vault gives back (`stored`), each
//! with its conversion to or from the core's records.

pub(crate) mod input;
pub(crate) mod stored;
