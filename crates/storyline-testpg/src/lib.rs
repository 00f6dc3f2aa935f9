//! A throw-away PostgreSQL cluster for tests: `initdb` into a temporary directory, a server
//! on a free port of 127.0.0.1 (and a socket in that directory), stopped and deleted when the
//! [`Cluster`] is dropped.
//!
//! `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user and
//! its tools run through `runuser`. Without PostgreSQL a test gets `None` and should return;
//! under `CI=true` a missing PostgreSQL is a failure instead, never a silent skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running throw-away cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// Starts a cluster, or `None` when no PostgreSQL is installed (a panic under `CI=true`).
    /// Any other failure to start is a panic: it is a broken machine, not a missing package.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = bin_dir() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is not installed (no initdb under /usr/lib/postgresql or STORYLINE_PG_BIN) and CI=true: install Debian's `postgresql`");
            }
            eprintln!("PostgreSQL is not installed: this test does not run");
            return None;
        };
        // SAFETY: geteuid has no preconditions and cannot fail.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let dir = tempfile::Builder::new()
            .prefix("storyline-pg")
            .tempdir()
            .expect("temporary directory for the cluster");
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(dir.path()));
        }
        let cluster = Cluster {
            bin,
            port: free_port(),
            dir,
            as_postgres,
        };
        let data = cluster.dir.path().join("data");
        cluster.run_tool(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        cluster.run_server();
        Some(cluster)
    }

    /// Starts the server on the cluster's data, port and socket directory.
    fn run_server(&self) {
        // A test cluster needs no durability: fsync off makes each commit cheap.
        let options = format!(
            "-k {} -h 127.0.0.1 -p {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.dir.path().display(),
            self.port
        );
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("server.log");
        self.run_tool(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
            ],
        );
    }

    /// Stops the server, closing every connection (the cluster stays, to start again). A
    /// clean stop: commits here are not synced, so an immediate one could lose the last.
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        self.run_tool(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-w".as_ref(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
            ],
        );
    }

    /// Starts a stopped server again, on the same port.
    pub fn restart(&self) {
        self.run_server();
    }

    /// The URL of the cluster's `postgres` database, as `--db` takes it.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The URL of a database `name`, created empty (a second store in the same cluster).
    pub fn create_database(&self, name: &str) -> String {
        let createdb = self.bin.join("createdb");
        let status = Command::new(createdb)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ])
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        format!("postgresql://postgres@127.0.0.1:{}/{name}", self.port)
    }

    fn run_tool(&self, tool: &str, args: &[&std::ffi::OsStr]) {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args).current_dir(self.dir.path());
        run(&mut cmd);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let program = self.bin.join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // Immediate: nothing in a test cluster is worth a clean shutdown's checkpoint.
        let _ = cmd
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&data)
            .current_dir(self.dir.path())
            .output();
    }
}

/// Runs a set-up command; a failure is a panic with its output.
fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port nobody listens on now (the kernel's pick; another process could take it before
/// the server does, which a retry of the test would survive).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// PostgreSQL's programs: `STORYLINE_PG_BIN`, else the newest /usr/lib/postgresql/*/bin
/// (Debian's layout) holding `initdb`.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("STORYLINE_PG_BIN") {
        let dir = PathBuf::from(dir);
        return dir.join("initdb").exists().then_some(dir);
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(port: u16) -> bool {
        let Some(bin) = bin_dir() else { return false };
        Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn a_cluster_listens_on_its_port_until_dropped() {
        let Some(cluster) = Cluster::start() else {
            return;
        };
        let port = cluster.port;
        assert!(ready(port), "nothing listens on {port}");
        assert!(cluster.url().contains(&format!(":{port}/")));
        let dir = cluster.dir.path().to_path_buf();
        drop(cluster);
        assert!(!ready(port), "the server outlived its cluster");
        assert!(!dir.exists(), "the cluster's directory is left behind");
    }
}
