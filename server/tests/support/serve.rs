//! `ember serve` as a child process on loopback: its stderr logged to a file of its own, killed
//! when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::client::{free_port, ping};
use super::run::send_signal;

/// How long a spawned server may take to answer its first `/ping`.
const START_LIMIT: Duration = Duration::from_secs(30);

/// What the binary logs (at INFO) once it listens, before the address.
const LISTENING: &str = "ember serving on http://";

/// An `ember serve` command being put together; see [`ember_serve`].
pub struct ServeCommand {
    cmd: Command,
    port_from_env: Option<u16>,
}

/// `ember serve --model <model> --host 127.0.0.1`, with `RUST_LOG=info` and no `SAGEMAKER_*`
/// variable from the test's environment; the port is `--port 0` (any free port, read back
/// from the log) unless [`ServeCommand::port_from_env`] is asked for.
pub fn ember_serve(model: &Path) -> ServeCommand {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ember"));
    cmd.args(["serve", "--model"])
        .arg(model)
        .args(["--host", "127.0.0.1"])
        .env("RUST_LOG", "info")
        .env_remove("SAGEMAKER_SPARKML_SCHEMA")
        .env_remove("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
        .env_remove("SAGEMAKER_BIND_TO_PORT");
    ServeCommand {
        cmd,
        port_from_env: None,
    }
}

impl ServeCommand {
    /// Adds command-line arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Gives the port in `SAGEMAKER_BIND_TO_PORT` (a free port, chosen now) instead of `--port`.
    pub fn port_from_env(mut self) -> Self {
        let port = free_port();
        self.cmd.env("SAGEMAKER_BIND_TO_PORT", port.to_string());
        self.port_from_env = Some(port);
        self
    }

    /// Starts the process without waiting for it to listen. [`Serve::addr`] is the address
    /// when the port came from the environment, and port 0 otherwise (see [`Self::start`]).
    pub fn spawn(mut self) -> Serve {
        let port = match self.port_from_env {
            Some(port) => port,
            None => {
                self.cmd.args(["--port", "0"]);
                0
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("stderr.log");
        let child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("run the ember binary");
        Serve {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
            _dir: dir,
        }
    }

    /// Starts the process and waits (30 s at most) until it answers `GET /ping`; fails the
    /// test, showing its stderr, if it exits or does not answer by then.
    pub fn start(self) -> Serve {
        let mut s = self.spawn();
        let started = Instant::now();
        loop {
            if s.addr.port() == 0
                && let Some(addr) = s.listening_on()
            {
                s.addr = addr;
            }
            if s.addr.port() != 0 && ping(s.addr).is_some() {
                return s;
            }
            assert!(
                s.alive(),
                "ember serve exited before answering /ping; stderr:\n{}",
                s.stderr()
            );
            assert!(
                started.elapsed() < START_LIMIT,
                "ember serve does not answer /ping within {START_LIMIT:?}; stderr:\n{}",
                s.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A running `ember serve`; killed (and reaped) when dropped.
pub struct Serve {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The address the log says the server listens on, once it says so.
    fn listening_on(&self) -> Option<SocketAddr> {
        let log = self.stderr();
        let (_, rest) = log.split_once(LISTENING)?;
        rest.split_whitespace().next()?.parse().ok()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM.
    pub fn term(&self) {
        send_signal(self.child.id(), "-TERM");
    }

    /// Waits up to `within` for the process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}
