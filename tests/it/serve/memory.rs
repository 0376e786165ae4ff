//! Memory while serving large files: a 100 MB file in static/ read by ten slow clients at once must
//! not cost the server its size per client. The server's resident memory (VmRSS in
//! `/proc/<pid>/status`) is sampled while they read; the test takes about ten seconds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{fixture, request, Server};

/// The size of the large file.
const SIZE: u64 = 100 * 1024 * 1024;
/// Clients reading it at once.
const CLIENTS: usize = 10;
/// How long the slow clients read.
const SLOW_FOR: Duration = Duration::from_secs(6);

/// The resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in status");
    kb * 1024
}

/// Ask for `path` and return the connection, read up to the end of the response head, and the
/// head's Content-Length.
fn open_download(port: u16, path: &str) -> (TcpStream, u64) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(super::WAIT)).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").expect("send");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("read head");
        assert_eq!(n, 1, "the connection ended in the head: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("Content-Length");
    (s, len)
}

#[cfg(target_os = "linux")]
#[test]
fn ten_slow_clients_on_a_100_mb_static_file_keep_memory_flat() {
    let site = fixture();
    // A sparse file: 100 MB to read, next to nothing on disk.
    let big = std::fs::File::create(site.path().join("static/big.bin")).expect("create");
    big.set_len(SIZE).expect("set_len");
    drop(big);
    let s = Server::start(site.path(), &[]);
    let host = format!("127.0.0.1:{}", s.port);
    // Warm up, then take the resting size.
    for path in ["/", "/tools/alpha/", "/extra.css", "/notes.txt"] {
        assert_eq!(s.get(path).status, 200, "{path}");
    }
    let head = request(s.port, "HEAD", "/big.bin", &host);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("Content-Length"),
        Some(SIZE.to_string().as_str())
    );
    assert_eq!(
        head.header("Content-Type"),
        Some("application/octet-stream")
    );
    assert!(head.body.is_empty());
    std::thread::sleep(Duration::from_millis(200));
    let resting = rss(s.pid());

    let port = s.port;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let (mut conn, len) = open_download(port, "/big.bin");
                assert_eq!(len, SIZE);
                // 64 KiB every 20 ms: about 3 MB/s, far slower than the server can send.
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = 0u64;
                let start = Instant::now();
                while start.elapsed() < SLOW_FOR {
                    let n = conn.read(&mut buf).expect("read body");
                    assert!(n > 0, "the body ended after {got} bytes");
                    got += n as u64;
                    std::thread::sleep(Duration::from_millis(20));
                }
                got
            })
        })
        .collect();
    let mut peak = resting;
    let start = Instant::now();
    while start.elapsed() < SLOW_FOR + Duration::from_millis(500) {
        peak = peak.max(rss(s.pid()));
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut read = 0;
    for c in clients {
        read += c.join().expect("a slow client failed");
    }
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "serve RSS: resting {:.1} MiB, peak {:.1} MiB with {CLIENTS} slow clients ({:.1} MiB read in all)",
        mib(resting),
        mib(peak),
        mib(read)
    );
    assert!(
        peak < resting + 100 * 1024 * 1024,
        "RSS went from {:.1} MiB to {:.1} MiB",
        mib(resting),
        mib(peak)
    );

    // A fast client gets the whole file, exactly, and the server is still small after it.
    let (mut conn, len) = open_download(port, "/big.bin");
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    loop {
        let n = conn.read(&mut buf).expect("read body");
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|&b| b == 0), "not the file's bytes");
        got += n as u64;
    }
    assert_eq!((got, len), (SIZE, SIZE));
    assert!(rss(s.pid()) < resting + 100 * 1024 * 1024);
}
