//! The real `parley-server` binary as a child process, for the tests that must measure the
//! server alone (its peak memory from `/proc`) or treat it as an attacker would, from outside.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    pub agent_token: String,
    pub stdout: Vec<String>,
    _dir: tempfile::TempDir,
}

pub const PROCESS_TOKEN: &str = "process-test-token-0123456789";

impl ServerProcess {
    /// Starts the binary on a free loopback port with demo data, a fresh data dir and
    /// `extra` flags; returns once it printed `listening on`.
    pub fn start(extra: &[&str]) -> ServerProcess {
        Self::start_in(tempfile::tempdir().unwrap(), extra)
    }

    /// As [`ServerProcess::start`], on a data dir the test prepared (and that the server
    /// owns from now on).
    pub fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> ServerProcess {
        let mut args = vec!["--demo", "--agent-token", PROCESS_TOKEN];
        args.extend_from_slice(extra);
        Self::start_with_args(dir, &args)
    }

    /// The binary with only `--port 0`, the data dir, the dist and `args` (no `--demo`, no
    /// token unless `args` has them).
    pub fn start_with_args(dir: tempfile::TempDir, args: &[&str]) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_parley-server"))
            .args(["--port", "0"])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--dist")
            .arg(dir.path().join("no-dist"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("parley-server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stdout = vec![];
        let deadline = Instant::now() + Duration::from_secs(30);
        let base_url = loop {
            assert!(Instant::now() < deadline, "no `listening on` line");
            let line = lines
                .next()
                .expect("server printed `listening on` before exiting")
                .unwrap();
            stdout.push(line.clone());
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        ServerProcess {
            child,
            base_url,
            agent_token: PROCESS_TOKEN.to_owned(),
            stdout,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The `--data-dir` (its `no-dist/` is the `--dist`, empty unless a test writes it).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A parameter (`inbox`, `contact`, `conversation`) of the demo's printed
    /// `customer url: http://…/customer/?inbox=I&contact=C&conversation=N` line.
    pub fn customer_param(&self, name: &str) -> String {
        let line = self
            .stdout
            .iter()
            .find_map(|l| l.strip_prefix("customer url: "))
            .expect("a customer url line");
        let query = line.split_once('?').unwrap().1;
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in the customer url"))
            .to_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `host:port` of the listening socket.
    pub fn addr(&self) -> String {
        self.base_url.trim_start_matches("http://").to_owned()
    }

    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc status"))
    }

    /// Peak resident memory (VmHWM) in kB.
    pub fn peak_rss_kb(&self) -> u64 {
        self.status_kb("VmHWM:")
    }

    /// Current resident memory (VmRSS) in kB.
    pub fn rss_kb(&self) -> u64 {
        self.status_kb("VmRSS:")
    }

    /// Resets VmHWM to the current RSS, so a test measures the peak of its own attack.
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").unwrap();
    }

    /// Still running (not crashed)?
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
