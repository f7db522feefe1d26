//! `portal`: serve the portal, or administer it from the command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Like every Unix tool: `portal audit | head` ends quietly when the reader goes away,
    // instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    server::cli::main()
}
