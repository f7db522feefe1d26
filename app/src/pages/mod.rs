pub mod activate;
pub mod admin;
pub mod connect;
pub mod exports;
pub mod home;
pub mod login;
pub mod not_found;
pub mod table;
