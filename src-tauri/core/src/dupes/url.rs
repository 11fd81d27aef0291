//! Source URLs in one canonical form, so that two posts saved from the same page compare equal.
//!
//! What is dropped or unified (a URL that does not parse as `http`/`https` is compared as its
//! trimmed text, so the same odd value still matches itself):
//! - scheme: `http` and `https` are the same page;
//! - host: case, a trailing dot, and a leading `www.`, `m.`, `mobile.`, `wap.` (mobile editions);
//! - port: the scheme's default (`:80`, `:443`);
//! - path: a trailing `/` (the root path stays `/`), `index.html`/`index.htm`/`index.php`
//!   at its end is NOT dropped (some sites serve other pages there);
//! - query: tracking parameters (`TRACKING` below, and every `utm_*`), then the rest sorted;
//! - fragment: dropped.

/// Query parameters that say where a visitor came from, not which page it is: analytics
/// (`utm_*` is matched by prefix), ad click ids, and the share/referrer parameters of the news
/// and social sites of the corpus (`spm`, `from`, `share_token`, …).
pub const TRACKING: &[&str] = &[
    // Ad and analytics click ids.
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "ocid",
    "cmpid",
    // Referrer and share parameters (Alibaba's `spm`, WeChat's `scene`/`chksm`-free share ids,
    // Weibo, Zhihu, Toutiao, Xiaohongshu and the like).
    "spm",
    "scm",
    "from",
    "source",
    "src",
    "ref",
    "ref_src",
    "ref_url",
    "referer",
    "referrer",
    "share",
    "share_from",
    "share_source",
    "share_medium",
    "share_token",
    "share_id",
    "shareid",
    "sharer",
    "share_app_id",
    "share_plat",
    "share_session_id",
    "sharesource",
    "isappinstalled",
    "scene",
    "subscene",
    "clicktime",
    "enterid",
    "sessionid",
    "wfr",
    "xsec_source",
    "xsec_token",
    "timestamp",
    "tt_from",
    "utm",
    "s_trans",
    "s_channel",
    "feature",
    "smid",
    "smtyp",
    "cid_source",
    "at_medium",
    "at_campaign",
    "at_custom1",
    "at_custom2",
    "at_custom3",
    "at_custom4",
];

/// Host prefixes of mobile editions (and `www.`) that name the same site.
const HOST_PREFIXES: &[&str] = &["www.", "m.", "mobile.", "wap."];

fn is_tracking(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_") || TRACKING.contains(&k.as_str())
}

/// The canonical form of a source URL, or None for an empty one.
pub fn canonical(source: &str) -> Option<String> {
    let s = source.trim();
    if s.is_empty() {
        return None;
    }
    let Ok(mut url) = url::Url::parse(s) else {
        return Some(s.to_string());
    };
    if !matches!(url.scheme(), "http" | "https") {
        url.set_fragment(None);
        return Some(url.to_string());
    }
    let Some(host) = url.host_str() else {
        return Some(url.to_string());
    };
    // The `url` crate lower-cases domain names already; a trailing dot is the same host.
    let mut host = host.trim_end_matches('.').to_ascii_lowercase();
    loop {
        let stripped = HOST_PREFIXES
            .iter()
            .find_map(|p| host.strip_prefix(p).filter(|rest| rest.contains('.')));
        match stripped {
            Some(rest) => host = rest.to_string(),
            None => break,
        }
    }
    let mut path = url.path().to_string();
    while path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    let port = url
        .port()
        .filter(|p| *p != 80 && *p != 443)
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let mut out = format!("https://{host}{port}{path}");
    if !params.is_empty() {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        out.push('?');
        out.push_str(&query);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        let same = [
            (
                "https://www.bbc.com/zhongwen/simp/world-123",
                "http://WWW.BBC.com/zhongwen/simp/world-123/",
            ),
            (
                "https://www.bbc.com/zhongwen/simp/world-123",
                "https://m.bbc.com/zhongwen/simp/world-123#comments",
            ),
            (
                "https://news.example.cn/a/1.html",
                "https://wap.news.example.cn:443/a/1.html?utm_source=feed&utm_medium=rss",
            ),
            (
                "https://news.example.cn/a/1.html?id=7",
                "https://mobile.news.example.cn/a/1.html?spm=a2.b3&id=7&fbclid=XYZ&from=timeline",
            ),
            (
                "https://example.com/p?a=1&b=2",
                "https://example.com/p?b=2&a=1&share_token=abc&gclid=1",
            ),
            ("https://example.com/", "http://example.com:80"),
            ("https://example.com./x", "https://EXAMPLE.com/x"),
            (
                "https://mp.weixin.qq.com/s/abc",
                "https://mp.weixin.qq.com/s/abc?scene=21#wechat_redirect",
            ),
        ];
        for (a, b) in same {
            assert_eq!(canonical(a), canonical(b), "{a} vs {b}");
        }
        let different = [
            ("https://example.com/a", "https://example.com/b"),
            ("https://example.com/p?id=1", "https://example.com/p?id=2"),
            ("https://example.com:8080/a", "https://example.com/a"),
            ("https://a.example.com/x", "https://b.example.com/x"),
            // `m.` alone is a host, not a prefix: `m.com` stays `m.com`.
            ("https://m.com/x", "https://com/x"),
            // Path case matters on most servers.
            ("https://example.com/A", "https://example.com/a"),
        ];
        for (a, b) in different {
            assert_ne!(canonical(a), canonical(b), "{a} vs {b}");
        }
        assert_eq!(canonical("  "), None);
        assert_eq!(canonical("not a url").as_deref(), Some("not a url"));
        assert_eq!(
            canonical("HTTP://WWW.Example.COM/News/?utm_campaign=x#top").as_deref(),
            Some("https://example.com/News")
        );
    }
}
