//! `garim healthcheck`: the container's HEALTHCHECK without curl in the image. One bounded HTTP/1.1 GET of
//! `/healthz`; exit 0 on 200 (every camera streams and the models are loaded), 1 otherwise. `--allow-degraded`
//! also accepts 503 (the service answers but a camera is down): a liveness check that does not restart the
//! whole service because one camera is unplugged.

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct HealthcheckArgs {
    /// URL of /healthz (http only)
    #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
    pub url: String,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
    /// Also succeed on 503 (service up, a camera or the models not ready)
    #[arg(long)]
    pub allow_degraded: bool,
}

pub fn healthcheck(a: HealthcheckArgs) -> Result<()> {
    let rest = a
        .url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("--url {:?}: only http:// URLs are supported", a.url))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let timeout = Duration::from_secs(a.timeout_secs.max(1));
    let addr = authority
        .to_socket_addrs()
        .with_context(|| format!("--url: cannot resolve {authority:?}"))?
        .next()
        .ok_or_else(|| anyhow!("--url: {authority:?} resolves to nothing"))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("cannot connect to {authority}"))?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    // One write: a server that answers after the first read must not see the request cut in pieces.
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes())?;
    let mut reply = Vec::new();
    s.take(1 << 20)
        .read_to_end(&mut reply)
        .with_context(|| format!("no answer from {}", a.url))?;
    let reply = String::from_utf8_lossy(&reply);
    let status: u16 = reply
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow!("{}: not an HTTP answer", a.url))?;
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b).trim();
    match status {
        200 => {
            println!("healthy");
            Ok(())
        }
        503 if a.allow_degraded => {
            println!("degraded: {body}");
            Ok(())
        }
        _ => bail!("{} answered {status}: {body}", a.url),
    }
}
