//! A real `patto serve` process for crash tests: started on port 0, its address read from
//! its first line on stdout, its output drained on threads of its own so that it never
//! blocks on a full pipe, and killed with SIGKILL (`Child::kill` on Unix) — by the test
//! when it wants a crash, and by `Drop` however the test ends, so that no server outlives
//! its test.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// A running server process.
pub struct ServerProcess {
    child: Child,
    /// `host:port` from the server's first line on stdout.
    pub address: String,
    stderr: Option<JoinHandle<String>>,
}

impl ServerProcess {
    /// Starts `command` (a `patto serve --bind 127.0.0.1:0`) and waits for the line that
    /// names its address.
    pub fn start(command: &mut Command) -> ServerProcess {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut server = ServerProcess {
            child,
            address: String::new(),
            stderr: Some(stderr),
        };
        let mut first_line = String::new();
        let _ = stdout.read_line(&mut first_line);
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
        });
        server.address = match first_line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            Some(address) => address.to_owned(),
            None => {
                let stderr = server.kill();
                panic!("no address in {first_line:?}; stderr: {stderr}")
            }
        };
        server
    }

    /// Kills the server with SIGKILL, as a crash or `kill -9` would: it gets no chance to
    /// finish a transaction or a message. Returns what it wrote on stderr.
    pub fn kill(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
