//! Remote images, fetched only when the user asks for them ("load images for this post").
//!
//! `render` parks every remote `<img>` address in `data-remote-src`, and the webview's CSP
//! forbids remote loads. When the user chooses to see a post's images, the UI asks the core for
//! each address; the core fetches it here and hands back a `data:` URL, which the CSP allows.
//! So the webview itself never talks to the network, and every request is made under these rules:
//!
//! - `http` and `https` only; no addresses on this machine or the local network when the address
//!   is written as an IP literal or `localhost` (names resolved by DNS are not checked);
//! - redirects are followed by hand (at most 5), each target checked by the same rules;
//! - a time limit for the whole request, and a size cap (10 MiB) enforced while reading;
//! - the answer must say `image/…` and its bytes must be a raster image we recognise (PNG, JPEG,
//!   GIF, WebP, AVIF, BMP, ICO). SVG is refused: it can carry scripts and links. The `data:` URL
//!   carries the type sniffed from the bytes, not the one the server claimed;
//! - no cookies, no `Referer`, a plain user agent.

use crate::api::ApiError;
use base64::Engine as _;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The largest image fetched, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: u32 = 5;

/// One fetched image, ready for `<img src>`.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct FetchedImage {
    /// The address asked for.
    pub url: String,
    /// The image type sniffed from the bytes, e.g. `image/png`.
    pub mime: String,
    /// The size of the image in bytes.
    pub bytes: u32,
    /// `data:<mime>;base64,<bytes>`.
    pub data_url: String,
}

/// The limits of one fetch. `Policy::default()` is what the app uses.
#[derive(Debug, Clone)]
pub struct Policy {
    pub max_bytes: u64,
    /// For the whole request, redirects included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Allow loopback and private addresses (tests against a local server only).
    pub allow_private: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_bytes: MAX_IMAGE_BYTES,
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(8),
            allow_private: false,
        }
    }
}

fn error(code: &str, message: String) -> ApiError {
    ApiError {
        code: code.into(),
        message,
        path: None,
    }
}

/// Shortens an address for messages (a data-heavy query string can be very long).
fn short(url: &str) -> String {
    const MAX: usize = 120;
    if url.chars().count() <= MAX {
        url.to_string()
    } else {
        let head: String = url.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// The address as the reader writes it: `//host/x` means `https://host/x`.
pub fn normalize(url: &str) -> String {
    let u = url.trim();
    if u.starts_with("//") {
        format!("https:{u}")
    } else {
        u.to_string()
    }
}

/// Checks that an address may be fetched: http(s), a host, and (unless allowed) not this
/// machine or the local network.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, ApiError> {
    let bad = |why: &str| {
        error(
            "bad-request",
            format!("Cannot load the image {}: {why}.", short(raw)),
        )
    };
    let url = url::Url::parse(&normalize(raw)).map_err(|_| bad("not a web address"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https addresses are loaded"));
    }
    let local = match url.host() {
        None => return Err(bad("the address has no host")),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => is_local(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_local(IpAddr::V6(ip)),
    };
    if local && !allow_private {
        return Err(bad(
            "it points to this computer or the local network, which posts may not reach",
        ));
    }
    Ok(url)
}

fn is_local_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || a >= 240
}

fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_local_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || v6 == Ipv6Addr::LOCALHOST
        }
    }
}

/// The image type of some bytes, from their signature; `None` for anything else (SVG included).
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(&bytes[8..12], b"avif" | b"avis")
    {
        Some("image/avif")
    } else if starts(b"BM") && bytes.len() >= 26 {
        Some("image/bmp")
    } else if starts(b"\x00\x00\x01\x00") && bytes.len() >= 22 {
        Some("image/x-icon")
    } else {
        None
    }
}

/// The media type of a `Content-Type` header, lower case, without parameters.
fn media_type(header: Option<&str>) -> String {
    header
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn explain(url: &str, e: &ureq::Error) -> ApiError {
    let what = match e {
        ureq::Error::Timeout(_) => "the server took too long to answer".to_string(),
        ureq::Error::HostNotFound => "the host was not found (are you online?)".to_string(),
        ureq::Error::BodyExceedsLimit(n) => {
            return error(
                "too-large",
                format!(
                    "The image {} is larger than {} MB and was not loaded.",
                    short(url),
                    n / (1024 * 1024)
                ),
            )
        }
        ureq::Error::ConnectionFailed => "could not connect to the server".to_string(),
        ureq::Error::Io(io) => format!("the connection failed ({io})"),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            "the secure connection could not be set up".to_string()
        }
        other => format!("the request failed ({other})"),
    };
    error(
        "fetch-failed",
        format!("Could not load the image {}: {what}.", short(url)),
    )
}

/// Fetches one image under `policy`. Never panics on what the network sends.
pub fn fetch_image_with(raw: &str, policy: &Policy) -> Result<FetchedImage, ApiError> {
    let mut url = check_url(raw, policy.allow_private)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(policy.timeout))
        .timeout_connect(Some(policy.connect_timeout))
        .user_agent("Shelfmark (archive reader)")
        .accept("image/avif,image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8")
        .max_idle_connections(0)
        .build()
        .into();
    let started = std::time::Instant::now();
    let mut redirects = 0;
    let mut response = loop {
        // Each hop gets what is left of the time limit.
        let left = policy.timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(error(
                "fetch-failed",
                format!(
                    "Could not load the image {}: the server took too long to answer.",
                    short(raw)
                ),
            ));
        }
        let response = agent
            .get(url.as_str())
            .config()
            .timeout_global(Some(left))
            .build()
            .call()
            .map_err(|e| explain(raw, &e))?;
        let status = response.status();
        if status.is_redirection() {
            redirects += 1;
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    error(
                        "fetch-failed",
                        format!(
                            "Could not load the image {}: the server redirected nowhere.",
                            short(raw)
                        ),
                    )
                })?;
            if redirects > MAX_REDIRECTS {
                return Err(error(
                    "fetch-failed",
                    format!(
                        "Could not load the image {}: too many redirects.",
                        short(raw)
                    ),
                ));
            }
            let next = url.join(location).map_err(|_| {
                error(
                    "fetch-failed",
                    format!(
                        "Could not load the image {}: the server redirected to a bad address.",
                        short(raw)
                    ),
                )
            })?;
            url = check_url(next.as_str(), policy.allow_private)?;
            continue;
        }
        if !status.is_success() {
            return Err(error(
                "fetch-failed",
                format!(
                    "Could not load the image {}: the server answered {}.",
                    short(raw),
                    status
                ),
            ));
        }
        break response;
    };

    let claimed = media_type(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
    );
    if !claimed.starts_with("image/") || claimed.starts_with("image/svg") {
        let shown = if claimed.is_empty() {
            "no type".to_string()
        } else {
            claimed.clone()
        };
        let why = if claimed.starts_with("image/svg") {
            " (SVG drawings can carry scripts)"
        } else {
            ""
        };
        return Err(error(
            "not-an-image",
            format!(
                "Did not load {}: the server sent {shown}, not a picture Shelfmark loads{why}.",
                short(raw)
            ),
        ));
    }
    let too_large = || {
        error(
            "too-large",
            format!(
                "The image {} is larger than {} MB and was not loaded.",
                short(raw),
                policy.max_bytes / (1024 * 1024)
            ),
        )
    };
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > policy.max_bytes) {
        return Err(too_large());
    }
    let bytes = response
        .body_mut()
        .with_config()
        .limit(policy.max_bytes)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => too_large(),
            e => explain(raw, &e),
        })?;
    let mime = sniff_image(&bytes).ok_or_else(|| {
        error(
            "not-an-image",
            format!(
                "Did not load {}: the server said {claimed}, but the data is not a picture Shelfmark loads.",
                short(raw)
            ),
        )
    })?;
    let len = u32::try_from(bytes.len()).map_err(|_| too_large())?;
    let mut data_url = format!("data:{mime};base64,");
    base64::engine::general_purpose::STANDARD.encode_string(&bytes, &mut data_url);
    Ok(FetchedImage {
        url: raw.to_string(),
        mime: mime.to_string(),
        bytes: len,
        data_url,
    })
}

/// Fetches one image with the app's policy.
pub fn fetch_image(url: &str) -> Result<FetchedImage, ApiError> {
    fetch_image_with(url, &Policy::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    /// A local server that answers each connection with the next canned response.
    fn serve(responses: Vec<Vec<u8>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for resp in responses {
                let Ok((mut s, _)) = listener.accept() else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(&resp);
            }
        });
        format!("http://{addr}")
    }

    fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut out = out.into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn local() -> Policy {
        Policy {
            allow_private: true,
            timeout: Duration::from_secs(5),
            ..Policy::default()
        }
    }

    #[test]
    fn a_png_becomes_a_data_url() {
        let base = serve(vec![answer(
            "200 OK",
            &[("Content-Type", "image/png")],
            PNG,
        )]);
        let img = fetch_image_with(&format!("{base}/a.png"), &local()).expect("fetched");
        assert_eq!(img.mime, "image/png");
        assert_eq!(img.bytes as usize, PNG.len());
        assert!(img
            .data_url
            .starts_with("data:image/png;base64,iVBORw0KGgo"));
    }

    #[test]
    fn the_sniffed_type_wins_over_the_claimed_one() {
        let gif = b"GIF89a\x01\0\x01\0\0\0\0;";
        let base = serve(vec![answer(
            "200 OK",
            &[("Content-Type", "image/png")],
            gif,
        )]);
        let img = fetch_image_with(&format!("{base}/a.png"), &local()).expect("fetched");
        assert_eq!(img.mime, "image/gif");
        assert!(img.data_url.starts_with("data:image/gif;base64,"));
    }

    #[test]
    fn svg_html_and_disguised_data_are_refused() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>"#;
        let base = serve(vec![
            answer("200 OK", &[("Content-Type", "image/svg+xml")], svg),
            answer("200 OK", &[("Content-Type", "text/html")], b"<html>"),
            answer("200 OK", &[("Content-Type", "image/png")], svg),
            answer("200 OK", &[], PNG),
        ]);
        for _ in 0..4 {
            let e = fetch_image_with(&format!("{base}/x"), &local()).expect_err("refused");
            assert_eq!(e.code, "not-an-image", "{e:?}");
            assert!(e.message.contains("/x"), "{}", e.message);
        }
    }

    #[test]
    fn large_images_are_cut_off() {
        let mut big = PNG.to_vec();
        big.resize(5000, 0);
        let base = serve(vec![
            answer("200 OK", &[("Content-Type", "image/png")], &big),
            // Lies about its length: the cap holds while reading.
            {
                let mut r =
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: image/png\r\n\r\n"
                        .to_vec();
                r.extend_from_slice(&big);
                r
            },
        ]);
        let policy = Policy {
            max_bytes: 1000,
            ..local()
        };
        for _ in 0..2 {
            let e = fetch_image_with(&format!("{base}/big.png"), &policy).expect_err("too large");
            assert_eq!(e.code, "too-large", "{e:?}");
        }
    }

    #[test]
    fn errors_are_readable() {
        let base = serve(vec![answer("404 Not Found", &[], b"")]);
        let e = fetch_image_with(&format!("{base}/gone.png"), &local()).expect_err("404");
        assert_eq!(e.code, "fetch-failed");
        assert!(e.message.contains("404"), "{}", e.message);

        // A port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let e = fetch_image_with(&format!("http://127.0.0.1:{port}/a.png"), &local())
            .expect_err("refused");
        assert_eq!(e.code, "fetch-failed");
        assert!(
            e.message.starts_with("Could not load the image"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let held = listener.accept();
            std::thread::sleep(Duration::from_secs(3));
            drop(held);
        });
        let policy = Policy {
            timeout: Duration::from_millis(300),
            ..local()
        };
        let e = fetch_image_with(&format!("http://{addr}/slow.png"), &policy).expect_err("slow");
        assert_eq!(e.code, "fetch-failed");
        assert!(e.message.contains("too long"), "{}", e.message);
    }

    #[test]
    fn redirects_are_followed_and_checked() {
        let base = serve(vec![
            answer("302 Found", &[("Location", "/b.png")], b""),
            answer("200 OK", &[("Content-Type", "image/png")], PNG),
        ]);
        let img = fetch_image_with(&format!("{base}/a.png"), &local()).expect("fetched");
        assert_eq!(img.mime, "image/png");

        let e = check_url("http://127.0.0.1:1/x.png", false).expect_err("local");
        assert_eq!(e.code, "bad-request");
        // Every hop is checked by the same rules.
        let base = serve(vec![answer(
            "301 Moved",
            &[("Location", "ftp://example.com/x.png")],
            b"",
        )]);
        let e = fetch_image_with(&format!("{base}/a.png"), &local()).expect_err("ftp");
        assert_eq!(e.code, "bad-request");
        assert!(
            e.message.contains("ftp://example.com/x.png"),
            "{}",
            e.message
        );

        let loops: Vec<Vec<u8>> = (0..=MAX_REDIRECTS)
            .map(|_| answer("302 Found", &[("Location", "/again")], b""))
            .collect();
        let base = serve(loops);
        let e = fetch_image_with(&format!("{base}/again"), &local()).expect_err("loop");
        assert!(e.message.contains("too many redirects"), "{}", e.message);
    }

    #[test]
    fn only_web_addresses_off_this_machine() {
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://example.com/a.png",
            "http://localhost/a.png",
            "http://foo.localhost/a.png",
            "http://127.0.0.1/a.png",
            "http://10.0.0.1/a.png",
            "http://172.16.0.1/a.png",
            "http://192.168.0.1/a.png",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/a.png",
            "http://[::1]/a.png",
            "http://[fe80::1]/a.png",
            "http://[fd00::1]/a.png",
            "http://[::ffff:127.0.0.1]/a.png",
            "not a url",
            "",
        ] {
            let e = check_url(bad, false).expect_err(bad);
            assert_eq!(e.code, "bad-request", "{bad}");
        }
        for good in [
            "https://img.example.com/a.jpg",
            "http://93.184.216.34/a.png",
            "//cdn.example.net/b.png",
            "https://[2606:2800:220:1::]/a.png",
        ] {
            assert!(check_url(good, false).is_ok(), "{good}");
        }
        assert_eq!(
            normalize(" //cdn.example.net/b.png"),
            "https://cdn.example.net/b.png"
        );
    }

    #[test]
    fn sniffing_knows_raster_formats_only() {
        assert_eq!(sniff_image(PNG), Some("image/png"));
        assert_eq!(sniff_image(b"\xff\xd8\xff\xe0rest"), Some("image/jpeg"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"\0\0\0\x1cftypavif\0\0"), Some("image/avif"));
        assert_eq!(sniff_image(b"<svg"), None);
        assert_eq!(sniff_image(b"<?xml version"), None);
        assert_eq!(sniff_image(b""), None);
        assert_eq!(sniff_image(b"RIFF"), None);
    }
}
