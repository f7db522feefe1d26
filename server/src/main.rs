//! `portal`: serve the portal, or administer it from the command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    server::primitives::memory::tune_allocator();
    // Like every Unix tool, the admin commands end quietly when their reader goes away
    // (`portal audit | head`) instead of panicking on a broken pipe. Not the server: a client
    // closing its connection early must never kill it.
    #[cfg(unix)]
    if std::env::args().nth(1).as_deref() != Some("serve") {
        // SAFETY: restoring the default disposition of one signal, before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    server::cli::main()
}
