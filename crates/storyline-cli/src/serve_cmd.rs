//! `storyline serve`: starts the HTTP server of `storyline-server` on a tokio runtime.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use storyline_server::ServerConfig;

use crate::Usage;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. Any address but 127.0.0.1 or [::1]
    /// is reachable from the network and needs a key.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Create an empty store when there is none (otherwise a missing store is an error,
    /// so that a typo in `--db` does not serve an empty one).
    #[arg(long)]
    create: bool,
    /// File holding the key that writes (`POST /api/ingest`) need, sent as
    /// `Authorization: Bearer KEY`. Required off loopback.
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// The key itself, from the environment only (a command line is visible to other users).
    #[arg(long, env = "STORYLINE_TOKEN", hide = true, hide_env_values = true)]
    token: Option<String>,
    /// Reads need the key too; the web page asks for it once per browser session.
    #[arg(long)]
    private: bool,
    /// Follow these feeds (addresses or OPML files) while serving, with those followed
    /// already; new articles appear as they are stored.
    #[arg(long, num_args = 1.., value_name = "SOURCE")]
    follow: Vec<String>,
    /// With `--follow`: also fetch loopback, private and link-local addresses.
    #[arg(long, requires = "follow")]
    allow_private_addresses: bool,
    /// With `--follow`: check every feed this often, in seconds (see `storyline follow`).
    #[arg(long, value_name = "SECS", requires = "follow",
          value_parser = clap::value_parser!(u64).range(1..))]
    every: Option<u64>,
}

fn read_token(args: &ServeArgs) -> Result<Option<String>> {
    let token = match (&args.token_file, &args.token) {
        (Some(file), _) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the key file {}", file.display()))?,
        (None, Some(t)) => t.clone(),
        (None, None) => return Ok(None),
    };
    let token = token.trim().to_string();
    if token.len() < 16 {
        return Err(Usage(
            "the key must be at least 16 characters (e.g. `openssl rand -hex 16`)".into(),
        )
        .into());
    }
    Ok(Some(token))
}

pub fn run(db: &Path, args: &ServeArgs) -> Result<ExitCode> {
    // A PostgreSQL URL names no file: its store is made or checked when it opens.
    if !args.create && !storyline::store::Store::is_url(db) && !db.exists() {
        anyhow::bail!(
            "no store at {}: ingest some articles first (`storyline ingest PATH --db {}`), \
             or give --create to serve an empty one",
            db.display(),
            db.display()
        );
    }
    let mut config = ServerConfig::new(db);
    config.token = read_token(args)?;
    config.private = args.private;
    if !args.follow.is_empty() {
        crate::follow_cmd::spawn_follower(
            db,
            &args.follow,
            args.allow_private_addresses,
            args.every,
            std::sync::Arc::clone(&config.writer),
        )?;
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let served = runtime.block_on(storyline_server::bind_and_serve(
        config,
        args.addr,
        |bound| {
            // Printed on stdout so scripts (and tests) can read the port when it was 0.
            println!("listening on http://{bound}/");
        },
    ));
    match served {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(
            e @ (storyline_server::ServeError::NoToken(_)
            | storyline_server::ServeError::PrivateWithoutToken),
        ) => Err(Usage(e.to_string()).into()),
        Err(e) => Err(e).with_context(|| format!("serving {}", db.display())),
    }
}
