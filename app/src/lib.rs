//! The portal's UI and its contract with the server.
//!
//! `contract` holds the types that cross the wire and the server-function signatures; the
//! implementation behind them lives in the `server` crate and is reached through the
//! [`backend::PortalBackend`] trait (ssr only), so the browser build never sees a data dependency.

// Leptos' typed views nest deeply; the table page's types need a higher limit to compile.
#![recursion_limit = "256"]

#[cfg(feature = "ssr")]
pub mod backend;
mod components;
pub mod contract;
mod pages;
mod shell;

pub use shell::{shell, App};
