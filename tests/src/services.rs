//! Real external services the document tests need, started per test on free loopback ports and stopped when
//! dropped: a ClamAV daemon with a signature database holding only EICAR, and an S3-compatible server
//! (`s3s-fs`). A service that cannot be started fails the test: it is never skipped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the `s3s-fs` binary; setting it also runs the API tests on S3 storage.
pub const TEST_S3S_FS: &str = "TEST_S3S_FS";

/// The 68-byte EICAR anti-malware test file: harmless, and detected by every scanner as if it were malware.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn wait_for(address: SocketAddr, child: &mut Child, what: &str, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before listening: {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on {address} within 60 s: {}", std::fs::read_to_string(log).unwrap_or_default());
}

/// A running `clamd` whose only signature is EICAR's.
pub struct Clamd {
    pub address: SocketAddr,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Clamd {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("db");
        std::fs::create_dir_all(&database).unwrap();
        // An MD5 signature: the hash and size of the EICAR file (clamd refuses to start with no signatures).
        std::fs::write(database.join("eicar.hdb"), "44d88612fea8a8f36de82e1278abb02f:68:Custom.Eicar-Test-Signature\n")
            .unwrap();
        let port = free_port();
        let config = dir.path().join("clamd.conf");
        let log = dir.path().join("clamd.log");
        std::fs::write(
            &config,
            format!(
                "Foreground yes\nDatabaseDirectory {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nPidFile {}\n\
                 TemporaryDirectory {}\nStreamMaxLength 200M\nSelfCheck 0\nLogFile {}\nLogVerbose no\n",
                database.display(),
                dir.path().join("clamd.pid").display(),
                dir.path().display(),
                dir.path().join("clamd-own.log").display(),
            ),
        )
        .unwrap();
        let binary = ["/usr/sbin/clamd", "/usr/bin/clamd"].into_iter().find(|p| std::path::Path::new(p).exists());
        let binary =
            binary.expect("clamd is not installed: `cargo xtask test` installs it (apt-get install -y clamav-daemon)");
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(dir.path().join("clamd.err")).unwrap()))
            .spawn()
            .expect("clamd starts");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for(address, &mut child, "clamd", &dir.path().join("clamd.err"));
        Self { address, child, _dir: dir }
    }

    /// The value for `clamd_address`.
    pub fn url(&self) -> String {
        format!("tcp://{}", self.address)
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `s3s-fs` with one bucket, `documents`.
pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl S3Server {
    /// Whether the S3 suite was asked for (`TEST_S3S_FS` names the binary).
    pub fn requested() -> bool {
        std::env::var_os(TEST_S3S_FS).is_some_and(|v| !v.is_empty())
    }

    /// Starts the server `TEST_S3S_FS` names; panics when it is unset or missing.
    pub fn start() -> Self {
        let binary = PathBuf::from(std::env::var_os(TEST_S3S_FS).expect("TEST_S3S_FS names the s3s-fs binary"));
        assert!(binary.exists(), "{TEST_S3S_FS} names {}, which does not exist", binary.display());
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        // s3s-fs keeps each bucket as a folder of its root.
        std::fs::create_dir_all(root.join("documents")).unwrap();
        let port = free_port();
        let (access_key, secret_key) = ("test-access-key".to_owned(), "test-secret-key".to_owned());
        let log = dir.path().join("s3s-fs.log");
        let mut child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", &access_key, "--secret-key", &secret_key])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("s3s-fs starts");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for(address, &mut child, "s3s-fs", &log);
        Self {
            endpoint: format!("http://{address}"),
            bucket: "documents".into(),
            access_key,
            secret_key,
            child,
            _dir: dir,
        }
    }

    pub fn settings(&self, prefix: &str) -> provider_api_http::documents::blob::S3Settings {
        provider_api_http::documents::blob::S3Settings {
            bucket: self.bucket.clone(),
            prefix: prefix.to_owned(),
            endpoint: Some(self.endpoint.clone()),
            region: "us-east-1".into(),
            access_key_id: Some(self.access_key.clone()),
            secret_access_key: Some(self.secret_key.clone().into()),
        }
    }

    /// Points a server's configuration at this bucket.
    pub fn configure(&self, config: &mut provider_api_http::config::Config) {
        config.document_storage = format!("s3://{}/tests", self.bucket);
        config.s3_endpoint = Some(self.endpoint.clone());
        config.s3_access_key_id = Some(self.access_key.clone());
        config.s3_secret_access_key = Some(self.secret_key.clone().into());
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private `redis-server` on a free port, keeping nothing on disk: for tests that stop Redis mid-run (the
/// machine's own Redis, on 6379, is shared and must not be stopped). `TEST_REDIS_SERVER` names the binary;
/// `redis-server` on the `PATH` otherwise (`cargo xtask test` installs it).
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self { port: free_port(), child: None, dir };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (as a crash would: SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let binary = std::env::var_os("TEST_REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        let log = self.dir.path().join("redis.log");
        let mut child = Command::new(&binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .current_dir(self.dir.path())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server could not start ({e}): `cargo xtask test` installs it (apt-get install -y redis-server)")
            });
        wait_for(SocketAddr::from(([127, 0, 0, 1], self.port)), &mut child, "redis-server", &log);
        self.child = Some(child);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
