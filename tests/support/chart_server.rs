//! A Helm chart repository on loopback: a small HTTP/1.1 file server over a directory
//! (`index.yaml` and the chart archives `helm package` and `helm repo index` wrote), with
//! optional basic auth and a count of the requests made for each path, so a test can tell
//! what a run downloaded. Stopping it (or dropping it) closes the port.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;

pub struct ChartServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    root: PathBuf,
    /// `Authorization: Basic` credentials every request must carry, if any.
    auth: Option<(String, String)>,
    stopping: AtomicBool,
    /// Per path (without the query): every request, and the ones answered 200.
    requests: Mutex<HashMap<String, usize>>,
    served: Mutex<HashMap<String, usize>>,
}

impl ChartServer {
    /// Serves `root` on 127.0.0.1 at a free port.
    pub fn start(root: &Path) -> ChartServer {
        ChartServer::serve(root, None)
    }

    /// Serves `root`, answering 401 (with `WWW-Authenticate: Basic`) to any request
    /// without these credentials.
    pub fn with_basic_auth(root: &Path, user: &str, password: &str) -> ChartServer {
        ChartServer::serve(root, Some((user.to_string(), password.to_string())))
    }

    fn serve(root: &Path, auth: Option<(String, String)>) -> ChartServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            auth,
            stopping: AtomicBool::new(false),
            requests: Mutex::new(HashMap::new()),
            served: Mutex::new(HashMap::new()),
        });
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || shared.answer(stream));
                }
                // The listener drops here: the port no longer accepts connections.
            })
        };
        ChartServer {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests asked for `path` (`/index.yaml`, `app-1.0.0.tgz`: the leading
    /// slash is optional), whatever the answer.
    pub fn requests(&self, path: &str) -> usize {
        count(&self.shared.requests, path)
    }

    /// How many requests for `path` were answered 200 with the file.
    pub fn served(&self, path: &str) -> usize {
        count(&self.shared.served, path)
    }

    /// Every request so far, for any path.
    pub fn total_requests(&self) -> usize {
        self.shared.requests.lock().unwrap().values().sum()
    }

    /// The paths requested so far with their counts, sorted: for failure messages.
    pub fn request_log(&self) -> Vec<(String, usize)> {
        let mut log: Vec<_> = self
            .shared
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|(path, n)| (path.clone(), *n))
            .collect();
        log.sort();
        log
    }

    /// Closes the port; connections being answered finish. Idempotent.
    pub fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stopping` and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5));
        accept.join().expect("the accept loop ends");
    }
}

impl Drop for ChartServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn count(counts: &Mutex<HashMap<String, usize>>, path: &str) -> usize {
    let key = format!("/{}", path.trim_start_matches('/'));
    counts.lock().unwrap().get(&key).copied().unwrap_or(0)
}

impl Shared {
    fn answer(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
        let Ok(reader) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(reader);
        let mut stream = stream;
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return; // the wake-up connection of stop(), or a client that gave up
        }
        let mut authorization = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("authorization")
            {
                authorization = Some(value.trim().to_string());
            }
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("/");
        let path = percent_decoded(target.split(['?', '#']).next().unwrap_or("/"));
        *self
            .requests
            .lock()
            .unwrap()
            .entry(path.clone())
            .or_insert(0) += 1;

        let response = if method != "GET" && method != "HEAD" {
            Response::status(405, "Method Not Allowed")
        } else if !self.authorized(authorization.as_deref()) {
            Response::status(401, "Unauthorized")
                .header("WWW-Authenticate", "Basic realm=\"charts\"")
        } else {
            match self.file(&path) {
                Some(body) => {
                    *self.served.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                    Response::ok(body, content_type(&path))
                }
                None => Response::status(404, "Not Found"),
            }
        };
        let _ = response.write(&mut stream, method == "HEAD");
        let _ = stream.flush();
        let _ = stream.shutdown(Shutdown::Both);
    }

    fn authorized(&self, header: Option<&str>) -> bool {
        let Some((user, password)) = &self.auth else {
            return true;
        };
        let Some(encoded) = header.and_then(|h| {
            h.strip_prefix("Basic ")
                .or_else(|| h.strip_prefix("basic "))
        }) else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        decoded == format!("{user}:{password}").as_bytes()
    }

    /// The file under the root that `path` names; None for a directory, a missing file or
    /// a path leaving the root.
    fn file(&self, path: &str) -> Option<Vec<u8>> {
        let relative = Path::new(path.trim_start_matches('/'));
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return None;
        }
        let full = self.root.join(relative);
        if !full.is_file() {
            return None;
        }
        std::fs::read(full).ok()
    }
}

/// `%2B` and the like as the bytes they stand for (a version's `+` build metadata).
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) if bytes[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        "application/x-yaml"
    } else if path.ends_with(".tgz") || path.ends_with(".gz") {
        "application/gzip"
    } else {
        "application/octet-stream"
    }
}

struct Response {
    code: u16,
    reason: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Response {
    fn ok(body: Vec<u8>, content_type: &'static str) -> Response {
        Response {
            code: 200,
            reason: "OK",
            headers: vec![("Content-Type", content_type.to_string())],
            body,
        }
    }

    fn status(code: u16, reason: &'static str) -> Response {
        Response {
            code,
            reason,
            headers: vec![("Content-Type", "text/plain".to_string())],
            body: format!("{code} {reason}\n").into_bytes(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Response {
        self.headers.push((name, value.to_string()));
        self
    }

    fn write(&self, stream: &mut TcpStream, head_only: bool) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.code, self.reason);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        stream.write_all(head.as_bytes())?;
        if !head_only {
            stream.write_all(&self.body)?;
        }
        Ok(())
    }
}
