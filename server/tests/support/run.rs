//! Runs of the `ember` binary, each under a deadline, with both output streams captured.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long one run of the binary may take before it is killed and the test fails (the
/// inputs of these tests are small; the debug build is slow).
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// A finished run of the binary: its exit status and what it wrote.
#[derive(Debug)]
pub struct Run {
    /// How the process ended.
    pub status: ExitStatus,
    /// Standard output (lossily decoded).
    pub stdout: String,
    /// Standard error (lossily decoded).
    pub stderr: String,
}

impl Run {
    /// `(status, stdout, stderr)`, for destructuring.
    pub fn parts(self) -> (ExitStatus, String, String) {
        (self.status, self.stdout, self.stderr)
    }
}

/// `ember <args>` with standard input closed and both outputs piped; not started.
pub fn ember_command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ember"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts `ember <args>` (see [`ember_command`]); collect it with [`finish`].
pub fn spawn_ember<S: AsRef<OsStr>>(args: &[S]) -> Child {
    ember_command(args).spawn().expect("run the ember binary")
}

/// Waits for `child` and returns what it wrote; kills it, and fails the test, after `limit`.
/// The pipes are drained on threads, so a chatty child cannot block on a full pipe.
pub fn finish(mut child: Child, limit: Duration) -> Run {
    let started = Instant::now();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ember") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ember did not finish within {limit:?}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Runs `ember <args>` to the end, within [`RUN_LIMIT`].
pub fn ember<S: AsRef<OsStr>>(args: &[S]) -> Run {
    finish(spawn_ember(args), RUN_LIMIT)
}

/// The arguments of `ember score --model <model> --input <each input> --output <output>
/// <extra>`.
pub fn score_args(
    model: &Path,
    inputs: &[&Path],
    output: impl AsRef<OsStr>,
    extra: &[&str],
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["score".into(), "--model".into(), model.into()];
    for input in inputs {
        args.push("--input".into());
        args.push(input.into());
    }
    args.push("--output".into());
    args.push(output.as_ref().into());
    args.extend(extra.iter().map(OsString::from));
    args
}

/// Runs `ember score` (see [`score_args`]) to the end, within [`RUN_LIMIT`].
pub fn ember_score(
    model: &Path,
    inputs: &[&Path],
    output: impl AsRef<OsStr>,
    extra: &[&str],
) -> Run {
    ember(&score_args(model, inputs, output, extra))
}

/// Sends `signal` (`-TERM`, `-INT`) to process `pid` with `kill`, asserting it was sent.
pub fn send_signal(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(sent, "kill {signal} {pid} failed");
}
