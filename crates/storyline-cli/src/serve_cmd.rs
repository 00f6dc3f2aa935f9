//! `storyline serve`: starts the HTTP server of `storyline-server` on a tokio runtime.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use storyline_server::ServerConfig;

pub fn run(db: &Path, addr: SocketAddr) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime
        .block_on(storyline_server::bind_and_serve(
            ServerConfig::new(db),
            addr,
            |bound| {
                // Printed on stdout so scripts (and tests) can read the port when it was 0.
                println!("listening on http://{bound}/");
            },
        ))
        .with_context(|| format!("serving {}", db.display()))?;
    Ok(ExitCode::SUCCESS)
}
