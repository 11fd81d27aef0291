//! Remote images, fetched only when the user asks for them ("load images for this post").
//!
//! `render` parks every remote `<img>` address in `data-remote-src`, and the webview's CSP
//! forbids remote loads. When the user chooses to see a post's images, the UI asks the core for
//! each address; the core fetches it here and hands back a `data:` URL, which the CSP allows.
//! So the webview itself never talks to the network, and every request is made under these rules:
//!
//! - `http` and `https` only, and only hosts on the public internet: a host name is looked up
//!   once, every address it resolves to is checked against the non-public ranges (IPv4 and IPv6,
//!   IPv4 carried in IPv6 included: see `is_public`), and the connection goes to those checked
//!   addresses only (a custom ureq `Resolver`, so there is no second lookup to rebind). If any
//!   address is not public the host is refused, with its name and the address in the message.
//!   No proxy is used, since a proxy would look the name up past this check;
//! - redirects are followed by hand (at most 5), each target checked by the same rules;
//! - a time limit for the whole request, and a size cap (10 MiB) enforced while reading;
//! - the answer must say `image/…` and its bytes must be a raster image we recognise (PNG, JPEG,
//!   GIF, WebP, AVIF, BMP, ICO). SVG is refused: it can carry scripts and links. The `data:` URL
//!   carries the type sniffed from the bytes, not the one the server claimed;
//! - no cookies, no `Referer`, a plain user agent.

use base64::Engine as _;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

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
    /// Non-public addresses (with their port) that may be reached all the same: a test's own
    /// local server. Empty in the app.
    pub allowed_local: Vec<SocketAddr>,
    /// How host names are looked up (the system's resolver in the app; a stub in tests).
    pub resolve: ResolveFn,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_bytes: MAX_IMAGE_BYTES,
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(8),
            allowed_local: Vec::new(),
            resolve: system_resolve,
        }
    }
}

/// Why an image was not fetched: a readable message that names the address, and its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    pub code: FetchCode,
    pub message: String,
}

/// The kinds of `FetchError`, spelled as the api's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchCode {
    /// The address may not be fetched (not http(s), not public, too many redirects).
    BadRequest,
    /// The network or the server failed.
    FetchFailed,
    /// The answer is not an image Shelfmark shows.
    NotAnImage,
    /// The image is over the size limit.
    TooLarge,
}

impl FetchCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FetchCode::BadRequest => "bad-request",
            FetchCode::FetchFailed => "fetch-failed",
            FetchCode::NotAnImage => "not-an-image",
            FetchCode::TooLarge => "too-large",
        }
    }
}

impl PartialEq<&str> for FetchCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

fn error(code: FetchCode, message: String) -> FetchError {
    FetchError { code, message }
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

/// Checks that an address may be fetched: http(s), a host, and not `localhost` or an IP literal
/// off the public internet (unless `policy` allows that very address). Host names are checked
/// again, address by address, when they are looked up (see `Screened`).
pub fn check_url(raw: &str, policy: &Policy) -> Result<url::Url, FetchError> {
    let bad = |why: &str| {
        error(
            FetchCode::BadRequest,
            format!("Cannot load the image {}: {why}.", short(raw)),
        )
    };
    let url = url::Url::parse(&normalize(raw)).map_err(|_| bad("not a web address"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https addresses are loaded"));
    }
    let port = url.port_or_known_default().unwrap_or(0);
    let ip = match url.host() {
        None => return Err(bad("the address has no host")),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") {
                return Err(bad("it points to this computer, which posts may not reach"));
            }
            None
        }
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
    };
    if let Some(ip) = ip {
        if !is_public(ip) && !policy.allowed_local.contains(&SocketAddr::new(ip, port)) {
            return Err(bad(&Refused {
                host: ip.to_string(),
                addr: ip,
            }
            .to_string()));
        }
    }
    Ok(url)
}

/// IPv4 blocks that are not the public internet (RFC 6890 and its updates), as (network, prefix).
const NON_PUBLIC_V4: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // carrier-grade NAT
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local (cloud metadata services live here)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 broadcast
];

/// IPv6 blocks that are not the public internet and embed no IPv4 address to judge instead.
const NON_PUBLIC_V6: &[([u16; 8], u8)] = &[
    ([0x0064, 0xff9b, 0x0001, 0, 0, 0, 0, 0], 48), // NAT64 for local use (RFC 8215)
    ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64),           // discard only
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),           // IETF protocol assignments (Teredo, …)
    ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32),      // documentation
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),           // documentation (RFC 9637)
    ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16),           // SRv6 segment identifiers
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),            // unique local
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),           // link-local
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),           // site-local (deprecated)
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),            // multicast
];

fn in_v4(ip: Ipv4Addr, (net, prefix): ([u8; 4], u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, (net, prefix): ([u16; 8], u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NON_PUBLIC_V4.iter().any(|&block| in_v4(ip, block))
}

/// The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one:
/// IPv4-compatible `::a.b.c.d` (`::` and `::1` included), mapped `::ffff:a.b.c.d`, translated
/// `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, and 6to4 `2002:aabb:ccdd::/48`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let high96 = bits >> 32;
    match high96 {
        0 | 0xffff | 0xffff_0000 => return Some(low),
        _ => {}
    }
    if high96 == u128::from(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0)) >> 32 {
        return Some(low);
    }
    let seg = ip.segments();
    if seg[0] == 0x2002 {
        return Some(Ipv4Addr::from(
            (u32::from(seg[1]) << 16) | u32::from(seg[2]),
        ));
    }
    None
}

/// Whether an address is on the public internet. Everything else (this machine, the local
/// network, carrier NAT, documentation and reserved blocks, multicast, and IPv6 forms that
/// carry such an IPv4 address) is refused: a post must not make the app reach it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => !NON_PUBLIC_V6.iter().any(|&block| in_v6(v6, block)),
        },
    }
}

/// Looks a host up: `host` is a name or an IP literal (IPv6 without brackets).
pub type ResolveFn = fn(&str, u16) -> std::io::Result<Vec<SocketAddr>>;

/// The system's resolver (`getaddrinfo`).
pub fn system_resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Ok((host, port).to_socket_addrs()?.collect())
}

/// Why an address was refused: its host stands for a non-public address.
#[derive(Debug)]
struct Refused {
    host: String,
    addr: IpAddr,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.trim_matches(['[', ']']) == self.addr.to_string() {
            write!(
                f,
                "{} is on this computer or the local network, which posts may not reach",
                self.addr
            )
        } else {
            write!(
                f,
                "{} is at {}, on this computer or the local network, which posts may not reach",
                self.host, self.addr
            )
        }
    }
}

impl std::error::Error for Refused {}

/// Keeps the addresses a host resolved to if every one of them may be reached (public, or
/// allowed by the policy for tests); refuses the host as soon as one may not: a name that
/// resolves to a mix of public and local addresses is not used at all.
fn screen(
    host: &str,
    addrs: Vec<SocketAddr>,
    allowed: &[SocketAddr],
) -> Result<Vec<SocketAddr>, Refused> {
    for a in &addrs {
        if !is_public(a.ip()) && !allowed.contains(a) {
            return Err(Refused {
                host: host.to_string(),
                addr: a.ip(),
            });
        }
    }
    Ok(addrs)
}

/// The resolver ureq uses for every connection: it looks the host up once, screens every
/// address, and hands ureq only those, so the address checked is the address connected to
/// (there is no second lookup for a rebinding name to answer differently).
#[derive(Debug)]
struct Screened {
    resolve: ResolveFn,
    allowed: Vec<SocketAddr>,
}

impl Screened {
    fn lookup(
        &self,
        host: &str,
        port: u16,
        timeout: NextTimeout,
    ) -> Result<Vec<SocketAddr>, ureq::Error> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if timeout.after.is_not_happening() {
            return Ok((self.resolve)(bare, port)?);
        }
        // Like ureq's own resolver: the lookup runs on a thread so that it can be given up.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let (resolve, name) = (self.resolve, bare.to_string());
        std::thread::spawn(move || tx.send(resolve(&name, port)).ok());
        match rx.recv_timeout(*timeout.after) {
            Ok(found) => Ok(found?),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                Err(ureq::Error::Timeout(timeout.reason))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(ureq::Error::HostNotFound),
        }
    }
}

impl Resolver for Screened {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let port = uri
            .port_u16()
            .or(match uri.scheme_str() {
                Some("http") => Some(80),
                Some("https") => Some(443),
                _ => None,
            })
            .ok_or(ureq::Error::HostNotFound)?;
        let found = self.lookup(host, port, timeout)?;
        let found = screen(host, found, &self.allowed).map_err(|refused| {
            ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                refused,
            ))
        })?;
        let mut out = self.empty();
        for a in found {
            if out.try_push(a).is_err() {
                break;
            }
        }
        if out.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
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

fn explain(url: &str, e: &ureq::Error) -> FetchError {
    if let ureq::Error::Io(io) = e {
        if let Some(refused) = io.get_ref().and_then(|e| e.downcast_ref::<Refused>()) {
            return error(
                FetchCode::BadRequest,
                format!("Cannot load the image {}: {refused}.", short(url)),
            );
        }
    }
    let what = match e {
        ureq::Error::Timeout(_) => "the server took too long to answer".to_string(),
        ureq::Error::HostNotFound => "the host was not found (are you online?)".to_string(),
        ureq::Error::BodyExceedsLimit(n) => {
            return error(
                FetchCode::TooLarge,
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
        FetchCode::FetchFailed,
        format!("Could not load the image {}: {what}.", short(url)),
    )
}

/// Fetches one image under `policy`. Never panics on what the network sends.
pub fn fetch_image_with(raw: &str, policy: &Policy) -> Result<FetchedImage, FetchError> {
    let mut url = check_url(raw, policy)?;
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(policy.timeout))
        .timeout_connect(Some(policy.connect_timeout))
        .user_agent("Shelfmark (archive reader)")
        .accept("image/avif,image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8")
        .max_idle_connections(0)
        // A proxy would look the host up itself, past the screen: none is used.
        .proxy(None)
        .build();
    // Every connection goes to the addresses `Screened` looked up and checked, and no others.
    let agent = ureq::Agent::with_parts(
        config,
        DefaultConnector::default(),
        Screened {
            resolve: policy.resolve,
            allowed: policy.allowed_local.clone(),
        },
    );
    let started = std::time::Instant::now();
    let mut redirects = 0;
    let mut response = loop {
        // Each hop gets what is left of the time limit.
        let left = policy.timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(error(
                FetchCode::FetchFailed,
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
                        FetchCode::FetchFailed,
                        format!(
                            "Could not load the image {}: the server redirected nowhere.",
                            short(raw)
                        ),
                    )
                })?;
            if redirects > MAX_REDIRECTS {
                return Err(error(
                    FetchCode::FetchFailed,
                    format!(
                        "Could not load the image {}: too many redirects.",
                        short(raw)
                    ),
                ));
            }
            let next = url.join(location).map_err(|_| {
                error(
                    FetchCode::FetchFailed,
                    format!(
                        "Could not load the image {}: the server redirected to a bad address.",
                        short(raw)
                    ),
                )
            })?;
            url = check_url(next.as_str(), policy)?;
            continue;
        }
        if !status.is_success() {
            return Err(error(
                FetchCode::FetchFailed,
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
            FetchCode::NotAnImage,
            format!(
                "Did not load {}: the server sent {shown}, not a picture Shelfmark loads{why}.",
                short(raw)
            ),
        ));
    }
    let too_large = || {
        error(
            FetchCode::TooLarge,
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
 FetchCode::NotAnImage,
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

/// Posts whose image lists are kept (most recent first).
const POST_IMAGES_KEPT: usize = 8;
/// Files larger than this are not hashed for the cache (they are rendered each time).
const POST_IMAGES_MAX_FILE: u64 = 64 * 1024 * 1024;

/// The remote image addresses of recently read posts, so that loading a post's images renders
/// the post once rather than once per image. An entry is used only while the file holds the
/// very bytes it was made from (compared by BLAKE3 hash); otherwise the post is rendered again.
#[derive(Debug, Default)]
pub struct PostImages {
    entries: std::sync::Mutex<Vec<PostImagesEntry>>,
    renders: std::sync::atomic::AtomicUsize,
}

#[derive(Debug)]
struct PostImagesEntry {
    root: std::path::PathBuf,
    path: String,
    hash: blake3::Hash,
    images: Vec<String>,
}

/// The one cache the app uses (see `Archive::fetch_image`).
pub static POST_IMAGES: PostImages = PostImages::new();

/// The hash of a regular file's bytes; `None` if it is not a regular file, is too large, or
/// cannot be read. `metadata` comes first, so that nothing that is not a file (a FIFO would
/// block) is ever opened.
fn hash_file(file: &std::path::Path) -> Option<blake3::Hash> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > POST_IMAGES_MAX_FILE {
        return None;
    }
    let bytes = std::fs::read(file).ok()?;
    Some(blake3::hash(&bytes))
}

impl PostImages {
    pub const fn new() -> PostImages {
        PostImages {
            entries: std::sync::Mutex::new(Vec::new()),
            renders: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many times a post was rendered to answer `names` (for tests and figures).
    pub fn renders(&self) -> usize {
        self.renders.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the post `path` of the archive at `root` (its file is `file`) names the image
    /// address `wanted`. `render` checks and renders the post, giving its image addresses; it
    /// runs only when no entry matches the file's current bytes. An entry is made only after
    /// `render` succeeded, and `file` is read only when an entry for it exists, so nothing is
    /// read that `render` did not accept first.
    pub fn names<E>(
        &self,
        root: &std::path::Path,
        path: &str,
        file: &std::path::Path,
        wanted: &str,
        render: impl FnOnce() -> Result<Vec<String>, E>,
    ) -> Result<bool, E> {
        // Held while rendering, so that the first images of a post, asked for at the same
        // time, wait for one render instead of each rendering the post.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = entries
            .iter()
            .position(|e| e.root == root && e.path == path)
        {
            if hash_file(file) == Some(entries[at].hash) {
                let entry = entries.remove(at);
                let named = entry.images.iter().any(|u| u == wanted);
                entries.insert(0, entry);
                return Ok(named);
            }
            entries.remove(at);
        }
        let images = render()?;
        self.renders
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let named = images.iter().any(|u| u == wanted);
        if let Some(hash) = hash_file(file) {
            entries.insert(
                0,
                PostImagesEntry {
                    root: root.to_path_buf(),
                    path: path.to_string(),
                    hash,
                    images,
                },
            );
            entries.truncate(POST_IMAGES_KEPT);
        }
        Ok(named)
    }
}

/// Fetches one image with the app's policy.
pub fn fetch_image(url: &str) -> Result<FetchedImage, FetchError> {
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

    /// The app's policy, except that the test server at `base` (`http://127.0.0.1:port`) may be
    /// reached, and names are looked up by `stub` (never by DNS).
    fn local(base: &str) -> Policy {
        let addr: SocketAddr = base
            .trim_start_matches("http://")
            .parse()
            .unwrap_or_else(|e| panic!("{base}: {e}"));
        Policy {
            allowed_local: vec![addr],
            resolve: stub,
            timeout: Duration::from_secs(5),
            ..Policy::default()
        }
    }

    /// Test names (under `.test`, which never resolves on the internet) and what they stand for.
    fn stub(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let ips: &[&str] = match host {
            "images.example.test" => &["127.0.0.1"],
            "mapped.example.test" => &["::ffff:127.0.0.1"],
            "loopback6.example.test" => &["::1"],
            "nat64.example.test" => &["64:ff9b::7f00:1"],
            "nat64-local.example.test" => &["64:ff9b:1::808:808"],
            "compat.example.test" => &["::127.0.0.1"],
            "translated.example.test" => &["::ffff:0:7f00:1"],
            "sixtofour.example.test" => &["2002:7f00:1::1"],
            "metadata.example.test" => &["169.254.169.254"],
            "cgnat.example.test" => &["100.64.0.1"],
            "ula.example.test" => &["fd00::1"],
            "linklocal.example.test" => &["fe80::1"],
            "mixed.example.test" => &["93.184.216.34", "10.0.0.1"],
            "public.example.test" => &["93.184.216.34", "2606:2800:220:1::"],
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{host} is not a test name"),
                ))
            }
        };
        Ok(ips
            .iter()
            .map(|ip| SocketAddr::new(ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}")), port))
            .collect())
    }

    #[test]
    fn a_png_becomes_a_data_url() {
        let base = serve(vec![answer(
            "200 OK",
            &[("Content-Type", "image/png")],
            PNG,
        )]);
        let img = fetch_image_with(&format!("{base}/a.png"), &local(&base)).expect("fetched");
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
        let img = fetch_image_with(&format!("{base}/a.png"), &local(&base)).expect("fetched");
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
            let e = fetch_image_with(&format!("{base}/x"), &local(&base)).expect_err("refused");
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
            ..local(&base)
        };
        for _ in 0..2 {
            let e = fetch_image_with(&format!("{base}/big.png"), &policy).expect_err("too large");
            assert_eq!(e.code, "too-large", "{e:?}");
        }
    }

    #[test]
    fn errors_are_readable() {
        let base = serve(vec![answer("404 Not Found", &[], b"")]);
        let e = fetch_image_with(&format!("{base}/gone.png"), &local(&base)).expect_err("404");
        assert_eq!(e.code, "fetch-failed");
        assert!(e.message.contains("404"), "{}", e.message);

        // A port nobody listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let nobody = format!("http://127.0.0.1:{port}");
        let e = fetch_image_with(&format!("{nobody}/a.png"), &local(&nobody)).expect_err("refused");
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
            ..local(&format!("http://{addr}"))
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
        let img = fetch_image_with(&format!("{base}/a.png"), &local(&base)).expect("fetched");
        assert_eq!(img.mime, "image/png");

        let e = check_url("http://127.0.0.1:1/x.png", &Policy::default()).expect_err("local");
        assert_eq!(e.code, "bad-request");
        // Every hop is checked by the same rules.
        let base = serve(vec![answer(
            "301 Moved",
            &[("Location", "ftp://example.com/x.png")],
            b"",
        )]);
        let e = fetch_image_with(&format!("{base}/a.png"), &local(&base)).expect_err("ftp");
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
        let e = fetch_image_with(&format!("{base}/again"), &local(&base)).expect_err("loop");
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
            let e = check_url(bad, &Policy::default()).expect_err(bad);
            assert_eq!(e.code, "bad-request", "{bad}");
        }
        for good in [
            "https://img.example.com/a.jpg",
            "http://93.184.216.34/a.png",
            "//cdn.example.net/b.png",
            "https://[2606:2800:220:1::]/a.png",
        ] {
            assert!(check_url(good, &Policy::default()).is_ok(), "{good}");
        }
        assert_eq!(
            normalize(" //cdn.example.net/b.png"),
            "https://cdn.example.net/b.png"
        );
    }

    #[test]
    fn names_are_screened_address_by_address() {
        let screened = Screened {
            resolve: stub,
            allowed: Vec::new(),
        };
        let config = ureq::Agent::config_builder().build();
        let look = |url: &str| {
            let uri: ureq::http::Uri = url.parse().unwrap_or_else(|e| panic!("{url}: {e}"));
            screened.resolve(&uri, &config, NextTimeout::default())
        };
        for (name, addr) in [
            ("images.example.test", "127.0.0.1"),
            ("mapped.example.test", "::ffff:127.0.0.1"),
            ("loopback6.example.test", "::1"),
            ("nat64.example.test", "64:ff9b::7f00:1"),
            ("nat64-local.example.test", "64:ff9b:1::808:808"),
            ("compat.example.test", "::127.0.0.1"),
            ("translated.example.test", "::ffff:0:7f00:1"),
            ("sixtofour.example.test", "2002:7f00:1::1"),
            ("metadata.example.test", "169.254.169.254"),
            ("cgnat.example.test", "100.64.0.1"),
            ("ula.example.test", "fd00::1"),
            ("linklocal.example.test", "fe80::1"),
            // One local address among public ones is enough to refuse the name.
            ("mixed.example.test", "10.0.0.1"),
        ] {
            let e = look(&format!("https://{name}/a.png")).expect_err(name);
            let e = explain("https://x/a.png", &e);
            assert_eq!(e.code, "bad-request", "{name}: {e:?}");
            // As Rust writes the address (`::127.0.0.1` is written `::7f00:1`).
            let addr = addr
                .parse::<IpAddr>()
                .unwrap_or_else(|e| panic!("{addr}: {e}"))
                .to_string();
            assert!(
                e.message.contains(name) && e.message.contains(&addr),
                "{name}: {}",
                e.message
            );
        }
        let found = look("https://public.example.test:8443/a.png").expect("public");
        let want: Vec<SocketAddr> = vec![
            "93.184.216.34:8443".parse().expect("addr"),
            "[2606:2800:220:1::]:8443".parse().expect("addr"),
        ];
        assert_eq!(found.to_vec(), want);
        // IP literals are screened too (no lookup), whatever wrote them.
        for url in [
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://10.1.2.3:8080/",
        ] {
            let e = look(url).expect_err(url);
            assert_eq!(explain(url, &e).code, "bad-request", "{url}");
        }
    }

    #[test]
    fn a_name_for_a_local_address_is_not_fetched() {
        // A server that would answer: the name must be refused before anyone connects to it.
        let base = serve(vec![answer(
            "200 OK",
            &[("Content-Type", "image/png")],
            PNG,
        )]);
        let port = base.rsplit(':').next().unwrap_or_default();
        let policy = Policy {
            resolve: stub,
            timeout: Duration::from_secs(5),
            ..Policy::default()
        };
        for name in ["images.example.test", "mapped.example.test"] {
            let e =
                fetch_image_with(&format!("http://{name}:{port}/a.png"), &policy).expect_err(name);
            assert_eq!(e.code, "bad-request", "{name}: {e:?}");
            assert!(e.message.contains(name), "{}", e.message);
        }
        // The same server is reached through a name when the policy allows its very address:
        // the address screened is the address connected to.
        let img = fetch_image_with(
            &format!("http://images.example.test:{port}/a.png"),
            &local(&base),
        )
        .expect("fetched");
        assert_eq!(img.mime, "image/png");
    }

    #[test]
    fn a_redirect_to_a_local_name_is_not_followed() {
        // The second server would answer with an image; only the first one may be reached.
        let target = serve(vec![answer(
            "200 OK",
            &[("Content-Type", "image/png")],
            PNG,
        )]);
        let port = target.rsplit(':').next().unwrap_or_default();
        for location in [
            format!("http://images.example.test:{port}/x.png"),
            format!("http://mapped.example.test:{port}/x.png"),
            format!("http://[::ffff:127.0.0.1]:{port}/x.png"),
            format!("http://localhost:{port}/x.png"),
        ] {
            let base = serve(vec![answer("302 Found", &[("Location", &location)], b"")]);
            let e = fetch_image_with(&format!("{base}/a.png"), &local(&base)).expect_err(&location);
            assert_eq!(e.code, "bad-request", "{location}: {e:?}");
        }
    }

    #[test]
    fn a_post_is_rendered_once_for_all_its_images() {
        use crate::api::Archive;
        use crate::scan::ScanOptions;
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let posts = dir.path().join("_posts");
        std::fs::create_dir_all(&posts).unwrap_or_else(|e| panic!("{e}"));
        // Addresses on this machine: the post names them, then the fetch refuses them, so
        // nothing leaves this computer.
        let img = |i: usize| format!("http://127.0.0.1:1/{i}.png");
        let body = |n: usize| -> String {
            (0..n)
                .map(|i| format!("<img src=\"{}\">\n", img(i)))
                .collect()
        };
        let file = posts.join("2021-03-04-images.md");
        let write = |n: usize| {
            std::fs::write(
                &file,
                format!("---\ntitle: Images\ndate: 2021-03-04\n---\n{}", body(n)),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        write(5);
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let path = "_posts/2021-03-04-images.md";
        let named = |url: &str| match archive.fetch_image(path, url) {
            Ok(_) => panic!("{url} was fetched"),
            Err(e) => !e.message.contains("has no image"),
        };
        let before = POST_IMAGES.renders();
        for i in 0..5 {
            assert!(named(&img(i)), "{}", img(i));
        }
        assert!(!named(&img(5)));
        assert!(!named("https://elsewhere.example/x.png"));
        assert_eq!(POST_IMAGES.renders() - before, 1, "one render for the post");

        // A changed file is rendered again: its new image is named, a removed one is not.
        write(7);
        assert!(named(&img(6)));
        write(2);
        assert!(!named(&img(3)));
        assert!(named(&img(1)));
        assert_eq!(POST_IMAGES.renders() - before, 3);

        // Only posts the index knows: never another file, even one that was read before.
        let e = archive
            .fetch_image("_posts/../_posts/2021-03-04-images.md", &img(0))
            .expect_err("not a known post");
        assert_ne!(e.code, "bad-request", "{e:?}");
    }

    #[test]
    fn every_non_public_address_is_refused() {
        for bad in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:0:127.0.0.1",
            "::ffff:0:192.168.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "100::1",
            "2001::1",
            "2001:0:4136:e378::1",
            "2001:1ff::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2002:c0a8:101::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "3fff::1",
        ] {
            let ip: IpAddr = bad.parse().unwrap_or_else(|e| panic!("{bad}: {e}"));
            assert!(!is_public(ip), "{bad} passed as public");
        }
        for good in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.0.1",
            "198.20.0.1",
            "223.255.255.1",
            "2606:2800:220:1::",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:200::1",
            "::8.8.8.8",
        ] {
            let ip: IpAddr = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
            assert!(is_public(ip), "{good} refused as non-public");
        }
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
