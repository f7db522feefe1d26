//! The ground floor: keys, secrets, time formats and memory that every other module may use.
//!
//! Nothing here imports anything else of the portal, so no circle can pass through it.

pub mod keys;
pub mod memory;
pub mod sealed;
pub mod secrets;
pub mod time;
