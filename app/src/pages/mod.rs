pub mod activate;
pub mod home;
pub mod not_found;
