//! The UI's contract: types shared by the browser and the server, the table-view grammar, and
//! the server functions the pages call. Nothing here touches storage or the catalog.

mod activation;
mod admin;
mod admin_fns;
pub mod charts;
mod connect;
mod exports;
pub mod grammar;
mod limits;
mod portal;
pub mod power_query;
mod saved_views;
mod usage;
mod views;

pub use activation::*;
pub use admin::*;
pub use admin_fns::*;
pub use connect::*;
pub use exports::*;
pub use limits::*;
pub use portal::*;
pub use saved_views::*;
pub use usage::*;
pub use views::*;
