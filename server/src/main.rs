//! `portal`: serve the portal, or administer it from the command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    server::cli::main()
}
