//! The UI's contract: types shared by the browser and the server, the table-view grammar, and
//! the server functions the pages call. Nothing here touches storage or the catalog.

mod activation;
pub mod grammar;
mod portal;
mod views;

pub use activation::*;
pub use portal::*;
pub use views::*;
