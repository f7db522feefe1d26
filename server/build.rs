// `sqlx::migrate!` embeds server/migrations at compile time: a changed migration must rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
