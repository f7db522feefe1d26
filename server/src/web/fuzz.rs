//! Property tests of what the web edge reads from untrusted clients: credential files and
//! multipart sign-in forms, `Range` headers on signed files, forwarding headers and allow-lists,
//! and sealed one-time values.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use proptest::prelude::*;
use tower::ServiceExt;

use super::signin::{presented_token, read_fields};
use crate::auth::network::{client_address, parse_networks, ForwardedHeader, Proxies};
use crate::catalog::shares::NewTable;
use crate::config::Settings;
use crate::error::PortalError;
use crate::primitives::sealed;
use crate::Services;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn ipv4() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(IpAddr::from)
}

proptest! {
    #![proptest_config(crate::fuzz_config())]

    /// An uploaded file signs in only when it is a profile with a bearer token; anything else is
    /// a clear "not a profile".
    #[test]
    fn fuzz_credential_files(text in ".{0,200}", token in "[ -~]{0,40}", extra in prop::collection::hash_map("[a-zA-Z]{1,8}", ".{0,8}", 0..3)) {
        let fields = HashMap::from([("credential_file".to_string(), text.clone())]);
        match presented_token(&fields) {
            Ok(found) => prop_assert!(!found.is_empty() && text.contains(found.as_str())),
            // A blank file is no file: the form then asks for a token.
            Err(e) if text.trim().is_empty() => prop_assert!(matches!(e, PortalError::InvalidParameter(_)), "{e:?}"),
            Err(e) => prop_assert!(matches!(e, PortalError::Malformed(_)), "{e:?}"),
        }
        let mut profile = serde_json::json!({"shareCredentialsVersion": 1, "endpoint": "https://x/delta-sharing", "bearerToken": token});
        for (k, v) in &extra {
            if k != "bearerToken" {
                profile[k] = serde_json::Value::from(v.as_str());
            }
        }
        let fields = HashMap::from([("credential_file".to_string(), profile.to_string())]);
        match presented_token(&fields) {
            Ok(found) => prop_assert_eq!(found, token.trim()),
            Err(_) => prop_assert!(token.trim().is_empty()),
        }
    }

    /// A multipart form reads as the fields that were sent, and a broken one is refused as
    /// malformed: never a panic.
    #[test]
    fn fuzz_multipart_sign_in_forms(
        fields in prop::collection::btree_map("[a-z_]{1,12}", "[ -~]{0,64}", 0..4),
        cut in any::<prop::sample::Index>(),
        junk in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let boundary = "fuzzboundary7MA4YWxk";
        let mut body = String::new();
        for (name, value) in &fields {
            body += &format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }
        body += &format!("--{boundary}--\r\n");
        let request = |bytes: Vec<u8>| {
            Request::post("/login")
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
                .body(Body::from(bytes))
                .unwrap()
        };
        let rt = runtime();
        let read = rt.block_on(read_fields(request(body.clone().into_bytes()))).unwrap();
        prop_assert_eq!(read, fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<HashMap<_, _>>());
        for broken in [body.as_bytes()[..cut.index(body.len())].to_vec(), junk] {
            if let Err(e) = rt.block_on(read_fields(request(broken))) {
                prop_assert!(matches!(e, PortalError::Malformed(_)), "{e:?}");
            }
        }
    }

    /// Behind no trusted proxy the connection's address is the client, whatever the headers
    /// say; behind one, what a client prepends never beats the hop the proxy appended.
    #[test]
    fn fuzz_forwarding_headers_cannot_choose_the_client_address(
        connection in ipv4(),
        client in ipv4(),
        spoofed in ".{0,60}",
        forwarded in ".{0,80}",
    ) {
        let proxy: IpAddr = "10.9.9.9".parse().unwrap();
        let nobody = Proxies::default();
        let mut headers = axum::http::HeaderMap::new();
        if let Ok(v) = spoofed.parse() {
            headers.insert("x-forwarded-for", v);
        }
        if let Ok(v) = forwarded.parse() {
            headers.insert("forwarded", v);
        }
        prop_assert_eq!(client_address(connection, &headers, &nobody), connection);
        let trusted = Proxies { trusted: parse_networks(&["10.9.9.9".to_string()]).unwrap(), header: ForwardedHeader::XForwardedFor };
        if client != proxy {
            let written = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).map(|s| format!("{s}, {client}"));
            let value = written.unwrap_or_else(|| client.to_string());
            if let Ok(v) = value.parse() {
                headers.insert("x-forwarded-for", v);
                prop_assert_eq!(client_address(proxy, &headers, &trusted), client);
            }
        }
    }

    /// Allow-list entries are networks or a clear error; an accepted entry reads back the same.
    #[test]
    fn fuzz_allow_lists(entries in prop::collection::vec(".{0,24}|[0-9./:a-f]{1,24}", 0..4), net in ipv4(), prefix in 0u8..=32) {
        if let Ok(nets) = parse_networks(&entries) {
            let again = parse_networks(&nets.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
            prop_assert_eq!(again, nets);
        }
        let cidr = format!("{net}/{prefix}");
        let parsed = parse_networks(&[cidr]).unwrap();
        prop_assert!(parsed[0].contains(&net));
    }

    /// A sealed value opens only with its secret and context, and altered bytes never open.
    #[test]
    fn fuzz_sealed_values(secret in ".{1,40}", context in ".{0,20}", plain in prop::collection::vec(any::<u8>(), 0..200), flip in any::<prop::sample::Index>(), junk in prop::collection::vec(any::<u8>(), 0..64)) {
        let sealed_value = sealed::seal(&secret, &context, &plain);
        prop_assert_eq!(sealed::open(&secret, &context, &sealed_value), Some(plain.clone()));
        prop_assert_eq!(sealed::open(&format!("{secret}x"), &context, &sealed_value), None);
        let mut altered = sealed_value.clone();
        let i = flip.index(altered.len());
        altered[i] ^= 0x01;
        prop_assert_eq!(sealed::open(&secret, &context, &altered), None);
        prop_assert_eq!(sealed::open(&secret, &context, &junk), None);
    }
}

/// `Range` headers on a signed file, through the real route: a whole file, a satisfiable range
/// with exactly its bytes, or 416; never a server error.
#[test]
fn fuzz_range_headers_on_signed_files() {
    let rt = runtime();
    // The router's pages spawn onto the runtime they are built in.
    let _inside = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let table_dir = dir.path().join("table");
    std::fs::create_dir_all(&table_dir).unwrap();
    let content: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(table_dir.join("part-0.parquet"), &content).unwrap();
    let (services, table_id) = rt.block_on(async {
        let s = Services::open(Settings::for_tests(dir.path())).await.unwrap();
        s.catalog.create_share("s", None).await.unwrap();
        let location = table_dir.to_string_lossy().to_string();
        let table = NewTable { share: "s", schema: "d", name: "t", location: &location, comment: None, history_shared: false, scope: None };
        let id = s.catalog.add_table(table).await.unwrap().id;
        (Arc::new(s), id)
    });
    let url = services.signer.sign(&table_id, "part-0.parquet").url;
    let path = url.split_once("/files/").map(|(_, rest)| format!("/files/{rest}")).unwrap();
    let app = super::router(services);
    let ranges = prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("bytes={a}-{b}")),
        any::<u16>().prop_map(|a| format!("bytes={a}-")),
        any::<u16>().prop_map(|n| format!("bytes=-{n}")),
        "bytes=[0-9,-]{0,20}",
        ".{0,30}",
    ];
    proptest!(crate::fuzz_config(), |(range in ranges)| {
        let request = Request::get(&path).header(header::RANGE, range.as_str()).body(Body::empty());
        let Ok(request) = request else { return Ok(()) };
        let response = rt.block_on(app.clone().oneshot(request)).unwrap();
        let status = response.status();
        let content_range = response.headers().get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()).map(String::from);
        let body = rt.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap();
        match status {
            StatusCode::OK => prop_assert_eq!(&body[..], &content[..]),
            StatusCode::PARTIAL_CONTENT => {
                let (span, _) = content_range.as_deref().and_then(|c| c.strip_prefix("bytes ")).and_then(|c| c.split_once('/')).unwrap();
                let (start, end) = span.split_once('-').map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap())).unwrap();
                prop_assert_eq!(&body[..], &content[start..=end], "{}", range);
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {}
            other => prop_assert!(false, "`{range}` answered {other}"),
        }
    });
}
